/**
 * PDF stamping with @cantoo/pdf-lib, the maintained fork of pdf-lib (pure JavaScript: Node and
 * Workers alike). Decision 0026. The library is about 250 KB gzip, more than the Worker's main
 * module may grow, so it is loaded with `import()` on first use: esbuild puts it in a chunk of
 * its own, which an isolate evaluates only when it stamps or reads a trace.
 *
 * A stamp is an incremental update: the original's bytes stay as they are, and what `stamp`
 * returns is appended (new content streams on every page, a font, the trace id in the catalog
 * and the document information). So the stamped copy can be written to storage as the original,
 * streamed again, followed by a few kilobytes.
 */
import type { PdfStamper } from "../../core/ports.ts";

type PdfLib = typeof import("@cantoo/pdf-lib");

let loading: Promise<PdfLib> | null = null;
/** The library, loaded once per process or isolate. */
function pdfLib(): Promise<PdfLib> {
  loading ??= import("@cantoo/pdf-lib");
  return loading;
}

/** The catalog and document-information key the trace id is kept under. */
const TRACE_KEY = "TollgateTrace";
/** The invisible text on every page: it survives a copy that drops the catalog's extra keys. */
const TRACE_PREFIX = "tollgate-trace:";
/** The stamp's font, under a name of its own in each page's resources. */
const FONT_KEY = "TollgateStamp";

export function pdfLibStamper(): PdfStamper {
  return {
    async stamp(pdf, { text, traceId }) {
      const lib = await pdfLib();
      const { PDFDocument, PDFName, PDFString, StandardFonts, TextRenderingMode } = lib;
      const doc = await PDFDocument.load(pdf, {
        forIncrementalUpdate: true,
        updateMetadata: false,
      });
      const snapshot = doc.takeSnapshot();
      const font = await doc.embedFont(StandardFonts.Helvetica);
      const key = PDFName.of(FONT_KEY);
      const visible = font.encodeText(text);
      const hidden = font.encodeText(`${TRACE_PREFIX}${traceId}`);
      // One stamp stream for every page whose crop box starts at the same point (usually all of
      // them): each page only gets the font and the stream's reference added to its dictionary.
      const streams = new Map<string, import("@cantoo/pdf-lib").PDFRef>();
      const streamAt = (x: number, y: number) => {
        const at = `${x} ${y}`;
        let ref = streams.get(at);
        if (!ref) {
          ref = doc.context.register(
            doc.context.contentStream([
              lib.pushGraphicsState(),
              lib.beginText(),
              lib.setFillingRgbColor(0.45, 0.45, 0.45),
              lib.setFontAndSize(key, 8),
              lib.moveText(x + 18, y + 10),
              lib.showText(visible),
              lib.endText(),
              // The trace id as text nobody sees (rendering mode 3: neither filled nor stroked).
              lib.beginText(),
              lib.setFontAndSize(key, 1),
              lib.setTextRenderingMode(TextRenderingMode.Invisible),
              lib.moveText(x + 1, y + 1),
              lib.showText(hidden),
              lib.endText(),
              lib.popGraphicsState(),
            ]),
          );
          streams.set(at, ref);
        }
        return ref;
      };
      for (const page of doc.getPages()) {
        snapshot.markRefForSave(page.ref);
        const box = page.getCropBox();
        // Wraps the page's own content in q/Q (shared streams), so the stamp starts from a clean
        // graphics state, and brings inherited resources onto the page.
        page.node.normalize();
        page.node.setFontDictionary(key, font.ref);
        page.node.addContentStream(streamAt(box.x, box.y));
      }
      doc.catalog.set(PDFName.of(TRACE_KEY), PDFString.of(traceId));
      snapshot.markRefForSave(doc.context.trailerInfo.Root as import("@cantoo/pdf-lib").PDFRef);
      return doc.saveIncremental(snapshot);
    },

    async readTrace(pdf) {
      const lib = await pdfLib();
      const doc = await lib.PDFDocument.load(pdf, { updateMetadata: false });
      const kept = doc.catalog.get(lib.PDFName.of(TRACE_KEY));
      if (kept instanceof lib.PDFString || kept instanceof lib.PDFHexString)
        return kept.decodeText();
      for (const text of await pageTextsOf(lib, doc)) {
        const found = new RegExp(`${TRACE_PREFIX}([0-9a-f]{16,64})`).exec(text);
        if (found) return found[1] as string;
      }
      return null;
    },
  };
}

/** The text each page shows (strings of its Tj and TJ operators, in order), for trace and tests. */
export async function pageTexts(pdf: Uint8Array): Promise<string[]> {
  const lib = await pdfLib();
  return pageTextsOf(lib, await lib.PDFDocument.load(pdf, { updateMetadata: false }));
}

async function pageTextsOf(
  lib: PdfLib,
  doc: import("@cantoo/pdf-lib").PDFDocument,
): Promise<string[]> {
  return doc.getPages().map((page) => {
    const contents = page.node.Contents();
    const streams: unknown[] =
      contents instanceof lib.PDFArray
        ? contents.asArray().map((ref) => doc.context.lookup(ref))
        : [contents];
    let text = "";
    for (const stream of streams) {
      if (!(stream instanceof lib.PDFRawStream)) continue;
      const bytes = lib.decodePDFRawStream(stream).decode();
      text += stringsShown(new TextDecoder("latin1").decode(bytes));
    }
    return text;
  });
}

/** The strings a content stream shows: `(literal)` and `<hex>` operands of Tj, TJ, ' and ". */
function stringsShown(content: string): string {
  let out = "";
  const re = /\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f\s]*)>/g;
  for (const m of content.matchAll(re)) {
    if (m[1] !== undefined)
      out += m[1].replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, c: string) =>
        /^[0-7]/.test(c)
          ? String.fromCharCode(Number.parseInt(c, 8))
          : (({ n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" } as Record<string, string>)[c] ?? c),
      );
    else {
      const hex = (m[2] as string).replace(/\s/g, "");
      for (let i = 0; i + 1 < hex.length; i += 2)
        out += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
    }
    out += " ";
  }
  return out;
}
