import { publicImageUrl } from "../core/images/publicImages.ts";

/**
 * A product's cover, in a 16:9 frame whose size is known before the image arrives (width and
 * height, then CSS's aspect-ratio), so nothing below it moves when it loads.
 */
export function Cover(props: { id: string; alt: string; class: string; lazy?: boolean }) {
  return (
    <img
      src={publicImageUrl(props.id)}
      alt={props.alt}
      class={props.class}
      width={1600}
      height={900}
      loading={props.lazy ? "lazy" : "eager"}
      decoding="async"
    />
  );
}
