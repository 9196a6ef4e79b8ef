import type { Child } from "hono/jsx";
import type { ShopProfile } from "../../core/shop/profile.ts";
import { Layout } from "../layout.tsx";

export type AdminSection =
  | "dashboard"
  | "products"
  | "orders"
  | "customers"
  | "licenses"
  | "tokens"
  | "downloads"
  | "sharing"
  | "webhooks"
  | "settings";

const SECTIONS: { id: AdminSection; label: string; href: string }[] = [
  { id: "dashboard", label: "Dashboard", href: "/admin" },
  { id: "products", label: "Products", href: "/admin/products" },
  { id: "orders", label: "Orders", href: "/admin/orders" },
  { id: "customers", label: "Customers", href: "/admin/customers" },
  { id: "licenses", label: "Licences", href: "/admin/licenses" },
  { id: "tokens", label: "Links", href: "/admin/tokens" },
  { id: "downloads", label: "Downloads", href: "/admin/downloads" },
  { id: "sharing", label: "Possibly shared", href: "/admin/sharing" },
  { id: "webhooks", label: "Webhooks", href: "/admin/webhooks" },
  { id: "settings", label: "Settings", href: "/admin/settings" },
];

export interface AdminPageProps {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  /** A one-line confirmation of the action that led here ("Product saved."). */
  notice?: string | null | undefined;
}

/** The seller's pages: the shop's layout plus a section bar and the action's confirmation. */
export function AdminLayout(
  props: AdminPageProps & { title: string; section: AdminSection; children: Child },
) {
  return (
    <Layout
      title={props.title}
      shop={props.shop}
      signedIn={props.signedIn}
      wide
      scripts={["/assets/admin.js"]}
    >
      <nav class="admin-nav" aria-label="Seller">
        {SECTIONS.map((s) => (
          <a href={s.href} aria-current={s.id === props.section ? "page" : undefined}>
            {s.label}
          </a>
        ))}
      </nav>
      {props.notice ? (
        <p class="notice ok" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.children}
    </Layout>
  );
}
