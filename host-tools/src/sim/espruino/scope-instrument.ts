/**
 * Makes a bundle's function scopes observable, for the JsVar estimator
 * (jsvar-estimate.ts), without changing what the bundle does.
 *
 * Why: Espruino keeps a closure's whole defining scope (every parameter and
 * `var` of each enclosing function call) alive for as long as the closure
 * lives, and that is most of a firmware's RAM. V8 does not let JS see a
 * closure's scope, and keeps only the variables an inner function uses.
 *
 * How: each function body starts with
 *   var $jsvN = __jsv$s(N, $jsvP, function () { return [a, b, …]; });
 * (N this function, P the lexically enclosing one or null, the getter reads
 * every name of the scope), and every function object is tagged at creation
 * with `__jsv$f(fn, N, $jsvP)`: function expressions are wrapped in that call
 * (it returns its argument), declarations are tagged at the start of their
 * scope (they are hoisted) or, inside a block, right after their statement.
 *
 * Why this cannot change behaviour: the added names (`$jsv…`, `__jsv$…`) are
 * checked not to occur in the source; the wrapper returns the function it was
 * given; the getter only reads variables and runs only when memory is
 * measured. What it does change: V8 keeps every variable of an instrumented
 * function in its heap-allocated context (slower, not different).
 *
 * Not instrumented (their functions are counted without a scope): object
 * literal methods and accessors (`{ m() {} }`, `get x() {}`) and class
 * methods, which cannot be wrapped in a call, and expression-bodied arrows,
 * whose body has no statement to add; none occur in an ES5 bundle.
 */
import * as acorn from "acorn";

export interface FunctionInfo {
  /** Index in InstrumentedSource.functions. */
  id: number;
  /** Parameter names, in order. */
  params: string[];
  /** Every name of the function's Espruino scope: parameters, vars, function declarations (deduplicated). */
  scopeNames: string[];
  /** A named function expression's own name (`function foo() {}` as a value), else null. */
  internalName: string | null;
  /** Expression-bodied arrow: Espruino adds no return variable to its scope. */
  expressionBody: boolean;
  /** Starts with the "ram" directive: Espruino copies its code into RAM even when it runs from flash. */
  ram: boolean;
  /** Characters of the function's source text (code held in RAM costs this much). */
  codeChars: number;
  /** Offset in the original source (to find it again when reading a report). */
  start: number;
}

export interface InstrumentedSource {
  code: string;
  functions: FunctionInfo[];
}

/** The two hooks the instrumented code calls; they must exist as globals of the realm. */
export const SCOPE_HOOK = "__jsv$s";
export const FUNCTION_HOOK = "__jsv$f";
const SCOPE_VAR_PREFIX = "$jsv";

type AnyNode = acorn.Node & Record<string, unknown>;

interface Insertion {
  pos: number;
  text: string;
  /** Ordering at one position: closers (0) before openers (1); closers innermost first, openers outermost first. */
  kind: 0 | 1;
  depth: number;
}

function isNode(v: unknown): v is AnyNode {
  return v !== null && typeof v === "object" && typeof (v as { type?: unknown }).type === "string";
}

function children(n: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const k of Object.keys(n)) {
    if (k === "type" || k === "start" || k === "end" || k === "loc" || k === "range") continue;
    const v = n[k];
    if (Array.isArray(v))
      for (const c of v) {
        if (isNode(c)) out.push(c);
      }
    else if (isNode(v)) out.push(v);
  }
  return out;
}

const isFunction = (n: AnyNode): boolean =>
  n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression";

function identifierNames(pattern: AnyNode, out: string[]): void {
  if (pattern.type === "Identifier") out.push(pattern.name as string);
  else if (pattern.type === "AssignmentPattern") identifierNames(pattern.left as AnyNode, out);
  else if (pattern.type === "RestElement") identifierNames(pattern.argument as AnyNode, out);
  else if (pattern.type === "ArrayPattern")
    for (const e of pattern.elements as Array<AnyNode | null>) {
      if (e) identifierNames(e, out);
    }
  else if (pattern.type === "ObjectPattern")
    for (const p of pattern.properties as AnyNode[]) identifierNames((p.type === "RestElement" ? p : p.value) as AnyNode, out);
}

/**
 * Names a function body declares into its own scope (not into nested
 * functions). Block-scoped names (let/const/function inside a nested block)
 * are left out: the scope getter, which sits at the top of the body, cannot
 * read them (Espruino would hold them in the function's scope: a small undercount).
 */
function declaredNames(body: AnyNode, out: string[]): void {
  const visit = (n: AnyNode, direct: boolean): void => {
    if (n.type === "VariableDeclaration") {
      if (n.kind === "var" || direct) for (const d of n.declarations as AnyNode[]) identifierNames(d.id as AnyNode, out);
    } else if (n.type === "FunctionDeclaration") {
      if (direct && n.id) out.push((n.id as AnyNode).name as string);
      return;
    }
    if (isFunction(n) || n.type === "ClassExpression" || n.type === "ClassDeclaration") return;
    for (const c of children(n)) visit(c, false);
  };
  for (const c of children(body)) visit(c, true);
}

const cache = new Map<string, InstrumentedSource>();

/** Thrown when the source already uses the names the instrumentation adds. */
export class InstrumentError extends Error {}

/**
 * The instrumented form of `source` (cached: 50 tokens share one rewrite).
 * `hookSuffix` names a separate pair of hooks (and scope variables), for a
 * second source in the same realm (console input) whose ids start at 0 again.
 */
export function instrumentScopes(source: string, hookSuffix = ""): InstrumentedSource {
  const key = hookSuffix + "\u0000" + source;
  const hit = cache.get(key);
  if (hit) return hit;
  const SCOPE_VAR = SCOPE_VAR_PREFIX + (hookSuffix ? hookSuffix + "_" : "");
  const SHOOK = SCOPE_HOOK + hookSuffix;
  const FHOOK = FUNCTION_HOOK + hookSuffix;
  if (source.indexOf(SCOPE_VAR_PREFIX) >= 0 || source.indexOf("__jsv$") >= 0)
    throw new InstrumentError("the source already uses the names the memory instrumentation adds ($jsv…, __jsv$…)");
  const ast = acorn.parse(source, { ecmaVersion: "latest", sourceType: "script" }) as unknown as AnyNode;
  const functions: FunctionInfo[] = [];
  const ins: Insertion[] = [];
  const ids = new Map<AnyNode, number>();

  // Ids in walk order, known before the walk (a declaration is tagged at the start of its scope).
  const order = (n: AnyNode): void => {
    if (isFunction(n)) ids.set(n, ids.size);
    for (const c of children(n)) order(c);
  };
  order(ast);
  const idOf = (n: AnyNode): number => ids.get(n)!;

  const scopeRef = (fnId: number | null): string => (fnId === null ? "null" : SCOPE_VAR + fnId);

  /** Position after a body's directive prologue ("use strict", "ram"), and whether "ram" was among them. */
  const prologueEnd = (block: AnyNode): { pos: number; ram: boolean } => {
    let pos = (block.start as number) + (block.type === "Program" ? 0 : 1);
    let ram = false;
    for (const s of block.body as AnyNode[]) {
      if (s.type !== "ExpressionStatement" || typeof s.directive !== "string") break;
      if (s.directive === "ram") ram = true;
      pos = s.end as number;
    }
    return { pos, ram };
  };

  const walk = (n: AnyNode, parent: AnyNode | null, enclosing: number | null, depth: number): void => {
    if (isFunction(n)) {
      const id = idOf(n);
      const params: string[] = [];
      for (const p of n.params as AnyNode[]) identifierNames(p, params);
      const body = n.body as AnyNode;
      const expressionBody = body.type !== "BlockStatement";
      const names = params.slice();
      if (!expressionBody) declaredNames(body, names);
      const scopeNames = names.filter((x, i) => names.indexOf(x) === i);
      const internalName = n.type === "FunctionExpression" && n.id ? ((n.id as AnyNode).name as string) : null;
      const pro = expressionBody ? { pos: 0, ram: false } : prologueEnd(body);
      functions[id] = {
        id,
        params,
        scopeNames,
        internalName,
        expressionBody,
        ram: pro.ram,
        codeChars: (n.end as number) - (n.start as number),
        start: n.start as number
      };

      const isMethod =
        parent !== null &&
        (parent.type === "MethodDefinition" || (parent.type === "Property" && (parent.method === true || parent.kind !== "init")));
      if (n.type !== "FunctionDeclaration" && !isMethod) {
        ins.push({ pos: n.start as number, text: `${FHOOK}(`, kind: 1, depth });
        ins.push({ pos: n.end as number, text: `,${id},${scopeRef(enclosing)})`, kind: 0, depth });
      }
      const inner = expressionBody ? enclosing : id;
      if (!expressionBody) {
        const getter = `function(){return[${scopeNames.join(",")}]}`;
        let text = `var ${SCOPE_VAR}${id}=${SHOOK}(${id},${scopeRef(enclosing)},${getter});`;
        // Declarations directly in this body are hoisted: tag them now.
        for (const s of body.body as AnyNode[])
          if (s.type === "FunctionDeclaration") text += `${FHOOK}(${(s.id as AnyNode).name as string},${idOf(s)},${SCOPE_VAR}${id});`;
        ins.push({ pos: pro.pos, text, kind: 1, depth: depth + 1 });
      }
      for (const c of children(n)) walk(c, n, inner, depth + 1);
      return;
    }
    if (n.type === "Program") {
      const pro = prologueEnd(n);
      let text = "";
      for (const s of n.body as AnyNode[])
        if (s.type === "FunctionDeclaration") text += `void ${FHOOK}(${(s.id as AnyNode).name as string},${idOf(s)},null);`; // void: the script's completion value stays what it was
      if (text) ins.push({ pos: pro.pos, text: (pro.pos > 0 ? ";" : "") + text, kind: 1, depth });
    } else if (n.type === "BlockStatement" || n.type === "SwitchCase") {
      // A declaration nested in a block (not a function body, which is handled above) is tagged after its statement.
      const list = (n.type === "SwitchCase" ? n.consequent : n.body) as AnyNode[];
      const isBody = parent !== null && isFunction(parent);
      if (!isBody)
        for (const s of list)
          if (s.type === "FunctionDeclaration") {
            ins.push({
              pos: s.end as number,
              text: `${FHOOK}(${(s.id as AnyNode).name as string},${idOf(s)},${scopeRef(enclosing)});`,
              kind: 0,
              depth: depth + 1
            });
          }
    }
    for (const c of children(n)) walk(c, n, enclosing, depth + 1);
  };

  walk(ast, null, null, 0);
  ins.sort((a, b) => a.pos - b.pos || a.kind - b.kind || (a.kind === 0 ? b.depth - a.depth : a.depth - b.depth));
  let out = "";
  let at = 0;
  for (const i of ins) {
    out += source.slice(at, i.pos) + i.text;
    at = i.pos;
  }
  out += source.slice(at);
  const result = { code: out, functions };
  if (cache.size > 16) cache.clear();
  cache.set(key, result);
  return result;
}
