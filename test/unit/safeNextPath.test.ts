import { describe, expect, it } from "vitest";
import { safeNextPath } from "../../src/core/identity/signIn.ts";

describe("safeNextPath", () => {
  it.each(["/", "/library", "/p/x?y=1", "/p/starter-kit#files", "/d/tgd_abc/ast_1"])(
    "accepts the local path %j",
    (path) => {
      expect(safeNextPath(path)).toBe(path);
    },
  );

  it.each([
    "//evil.example",
    "//evil",
    "https://evil.example",
    "http://evil",
    "/\\evil",
    "\\evil",
    "\\\\evil",
    "javascript:alert(1)",
    "data:text/html,hi",
    " /x",
    "/x y",
    "/\t/evil",
    "/x\nLocation: https://evil",
    "",
    "library",
    `/${"a".repeat(600)}`,
  ])("refuses %j", (path) => {
    expect(safeNextPath(path)).toBeNull();
  });

  it.each([undefined, null, 42, ["/library"], { path: "/library" }, true])(
    "refuses the non-string %j",
    (value) => {
      expect(safeNextPath(value)).toBeNull();
    },
  );
});
