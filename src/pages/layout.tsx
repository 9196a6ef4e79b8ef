import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { publicImageUrl } from "../core/images/publicImages.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { ShopScope } from "./shop.tsx";

export interface LayoutProps {
  title: string;
  shop: ShopProfile;
  signedIn?: { email: string; admin: boolean } | null;
  /** The seller's pages use the full width for their tables. */
  wide?: boolean;
  /** Same-origin scripts this page needs (the CSP allows no inline script). */
  scripts?: string[];
  children: Child;
}

export function Layout({ title, shop, signedIn, wide, scripts, children }: LayoutProps) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{title === shop.name ? shop.name : `${title} · ${shop.name}`}</title>
          <link rel="stylesheet" href="/assets/app.css" />
          {scripts?.map((src) => (
            <script src={src} defer />
          ))}
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="site">
            <div class={wide ? "bar wide" : "bar"}>
              <a class="brand" href="/">
                {shop.logo ? <img src={publicImageUrl(shop.logo)} alt="" height={28} /> : null}
                {shop.name}
              </a>
              <nav aria-label="Main">
                <a href="/">Store</a>
                <a href="/library">Library</a>
                {signedIn?.admin ? <a href="/admin">Seller</a> : null}
                {signedIn ? (
                  <form method="post" action="/auth/logout">
                    <button type="submit" class="link">
                      Sign out<span class="who"> ({signedIn.email})</span>
                    </button>
                  </form>
                ) : (
                  <a href="/auth/login">Sign in</a>
                )}
              </nav>
            </div>
          </header>
          <main id="main" class={wide ? "wide" : undefined}>
            <ShopScope shop={shop}>{children}</ShopScope>
          </main>
          <footer class="site">
            Files are delivered through private, expiring links.
            {shop.supportEmail ? (
              <>
                {" "}
                Questions? Write to <a href={`mailto:${shop.supportEmail}`}>{shop.supportEmail}</a>.
              </>
            ) : null}
          </footer>
        </body>
      </html>
    </>
  );
}
