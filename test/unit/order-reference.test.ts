import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toBase64Url } from "../../src/core/encoding.ts";
import { orderIdStart, orderReference } from "../../src/core/orders/reference.ts";

const orderId = fc
  .uint8Array({ minLength: 15, maxLength: 15 })
  .map((bytes) => `ord_${toBase64Url(bytes)}`);

describe("order references: what receipts call an order", () => {
  it("are ten unambiguous characters in two groups", () => {
    fc.assert(
      fc.property(orderId, (id) => {
        expect(orderReference(id)).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
      }),
    );
  });

  it("lead back to the start of the order's id, however they are typed", () => {
    fc.assert(
      fc.property(orderId, (id) => {
        const reference = orderReference(id);
        const start = id.slice(0, 12);
        expect(orderIdStart(reference)).toBe(start);
        expect(orderIdStart(reference.toLowerCase().replace("-", ""))).toBe(start);
        expect(orderIdStart(` ${reference.replace(/0/g, "O").replace(/1/g, "l")} `)).toBe(start);
      }),
    );
  });

  it("tell apart ids that differ only in case, which a reference cannot", () => {
    expect(orderReference("ord_aaaaaaaaXYZ")).not.toBe(orderReference("ord_AAAAAAAAXYZ"));
  });

  it("are not made up from other text", () => {
    for (const text of [
      "",
      "ord_abc",
      "help@shop.test",
      "ABCDE-FGHIU",
      "ABCDE-FGHJ",
      "ZZZZZ-ZZZZZ",
    ])
      expect(orderIdStart(text)).toBeNull();
  });

  it("leave an id of another shape as it is", () => {
    expect(orderReference("imported-42")).toBe("imported-42");
    expect(orderReference("ord_short")).toBe("ord_short");
  });
});
