/**
 * The boot code as the realm runs it: with the globals that exist at boot
 * (builtins and Espruino's natives) bound as the parameters of a wrapper
 * function, when that cannot change what the code does.
 *
 * Why: a `node:vm` context's global object sits behind interceptors, so every
 * global the bundle names (`Uint8Array`, `Math`, `NRF`, `getTime`…) costs 60–
 * 180 ns per use there, against a few ns for a local: a tax on every packet
 * and timer that a token does not pay. A wrapper parameter is a local.
 *
 * When it cannot change anything: the code declares nothing at its top level
 * (a bundle is one IIFE), so no `var`/`function` it makes could have become a
 * global; reads of a name bound here see the value it had at boot, which is
 * also the global's value unless the code assigns the global itself (a bare
 * `NRF = …` would then change the local only; `global.NRF = …` is unaffected).
 * Code with top-level declarations (console input, small test programs) runs
 * unwrapped.
 */
import * as acorn from "acorn";
import type { Realm } from "./realm";

/** Not bindable as parameters, or bound differently on purpose (direct eval must stay direct). */
const UNBOUND = new Set([
  "eval",
  "arguments",
  "undefined",
  "NaN",
  "Infinity",
  "globalThis",
  "let",
  "static",
  "yield",
  "await",
  "implements",
  "interface",
  "package",
  "private",
  "protected",
  "public"
]);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const declaresNothingCache = new Map<string, boolean>();

/** True when the script's top level holds expression statements only (directives included). */
function declaresNothing(code: string): boolean {
  let r = declaresNothingCache.get(code);
  if (r === undefined) {
    try {
      const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script" }) as unknown as { body: Array<{ type: string }> };
      r = ast.body.every((s) => s.type === "ExpressionStatement");
    } catch {
      // Let the realm report the syntax error exactly as it would without a wrapper.
      r = false;
    }
    if (declaresNothingCache.size > 64) declaresNothingCache.clear();
    declaresNothingCache.set(code, r);
  }
  return r;
}

/** The source to run for `code` in `realm` now (after the natives are installed). */
export function bootSource(realm: Realm, code: string): string {
  if (!declaresNothing(code)) return code;
  const names = Object.getOwnPropertyNames(realm.global).filter((n) => IDENTIFIER.test(n) && !UNBOUND.has(n));
  if (names.length === 0) return code;
  const list = names.join(",");
  // Same first line as the bundle (line numbers in errors stay right); a newline before
  // the end so that a trailing line comment cannot swallow it.
  return `(function(${list}){${code}\n}).call(this,${list});`;
}
