import * as acorn from "acorn";
import * as walk from "acorn-walk";

/**
 * The boot self-test's known-answer vector as the bundle holds it: one
 * string literal of 40 bytes (TEK ‖ metadata ‖ expected RPI ‖ AEM, firmware/src/selftest.ts),
 * found by its value whatever escapes the bundler wrote it with.
 */
export const VECTOR_HEX = "75c734c6dd1a782de7a965da5eb93125" + "40080000" + "8be6cd371c5c891604bfbe49df84509672033874";

export function findVector(code: string): { start: number; end: number } | null {
  const want = Buffer.from(VECTOR_HEX, "hex").toString("latin1");
  let found: { start: number; end: number } | null = null;
  walk.simple(acorn.parse(code, { ecmaVersion: 2015, sourceType: "module" }), {
    Literal(n) {
      if (n.value === want) found = { start: n.start, end: n.end };
    }
  });
  return found;
}

/** The bundle with the vector's last expected byte changed: the self-test must then fail. */
export function withBrokenVector(code: string): string {
  const at = findVector(code);
  if (!at) throw new Error("the self-test vector is not in the bundle");
  const bytes = Buffer.from(VECTOR_HEX, "hex");
  bytes[39] ^= 1;
  return code.slice(0, at.start) + JSON.stringify(bytes.toString("latin1")) + code.slice(at.end);
}
