import * as acorn from "acorn";
import { BUILTIN_CONSTRUCTORS, ESPRUINO_GLOBALS, FORBIDDEN_GLOBALS, FORBIDDEN_STATICS } from "./espruino-globals";

/**
 * The Espruino lint: parses a finished bundle and reports every construct that
 * Espruino 2v29 cannot run (see docs/espruino-lint.md for the rules and why).
 */

export type LintRule =
  | "syntax"
  | "spread"
  | "rest-parameter"
  | "default-parameter"
  | "destructuring"
  | "computed-key"
  | "optional-chaining"
  | "exponent"
  | "async"
  | "generator"
  | "label"
  | "bigint"
  | "forbidden-global"
  | "forbidden-static"
  | "builtin-prototype"
  | "unknown-global"
  | "board-constant"
  | "use-before-definition"
  | "global-shadow";

export interface LintProblem {
  rule: LintRule;
  line: number;
  column: number;
  message: string;
}

type Node = acorn.Node & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Visit {
  node: Node;
  parent: Node | null;
  key: string;
}

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

function children(node: Node): Array<[string, Node]> {
  const out: Array<[string, Node]> = [];
  for (const key of Object.keys(node)) {
    if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") out.push([key, c]);
    } else if (v && typeof v === "object" && typeof v.type === "string") {
      out.push([key, v]);
    }
  }
  return out;
}

function walk(root: Node, visit: (v: Visit) => boolean | void, parent: Node | null = null, key = ""): void {
  // visit returns false to skip the node's children
  if (visit({ node: root, parent, key }) === false) return;
  for (const [k, c] of children(root)) walk(c, visit, root, k);
}

/** True when this Identifier is a read of a variable, not a property name, label or declaration. */
function isReference(node: Node, parent: Node | null, key: string): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case "MemberExpression":
      return key === "object" || parent.computed === true;
    case "Property":
      if (key === "key") return parent.computed === true || parent.shorthand === true;
      return true;
    case "MethodDefinition":
    case "PropertyDefinition":
      return key !== "key" || parent.computed === true;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    case "VariableDeclarator":
      return key !== "id";
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      return key === "body";
    case "ClassDeclaration":
    case "ClassExpression":
      return key !== "id";
    case "CatchClause":
      return key !== "param";
    case "AssignmentPattern":
      return key === "right";
    case "RestElement":
    case "ArrayPattern":
    case "ObjectPattern":
      return false;
    case "MetaProperty":
      return false;
    default:
      return true;
  }
}

function patternNames(p: Node | null, out: string[]): void {
  if (!p) return;
  switch (p.type) {
    case "Identifier":
      out.push(p.name);
      break;
    case "ObjectPattern":
      for (const prop of p.properties) patternNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
      break;
    case "ArrayPattern":
      for (const el of p.elements) patternNames(el, out);
      break;
    case "RestElement":
      patternNames(p.argument, out);
      break;
    case "AssignmentPattern":
      patternNames(p.left, out);
      break;
  }
}

/** Every name declared anywhere inside `root` (an over-approximation of scoping, see the docs). */
function declaredNames(root: Node): Set<string> {
  const names: string[] = [];
  walk(root, ({ node }) => {
    switch (node.type) {
      case "VariableDeclarator":
        patternNames(node.id, names);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (node.id) names.push(node.id.name);
        for (const p of node.params) patternNames(p, names);
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        if (node.id) names.push(node.id.name);
        break;
      case "CatchClause":
        patternNames(node.param, names);
        break;
    }
  });
  return new Set(names);
}

function staticName(member: Node): string | null {
  if (!member.computed && member.property.type === "Identifier") return member.property.name;
  if (member.computed && member.property.type === "Literal" && typeof member.property.value === "string") {
    return member.property.value;
  }
  return null;
}

export function lintSource(source: string): LintProblem[] {
  const problems: LintProblem[] = [];
  let ast: Node;
  try {
    ast = acorn.parse(source, { ecmaVersion: "latest", sourceType: "script", locations: true, allowReturnOutsideFunction: false }) as Node;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    return [{ rule: "syntax", line: err.loc?.line ?? 0, column: (err.loc?.column ?? 0) + 1, message: err.message }];
  }
  const report = (node: Node, rule: LintRule, message: string): void => {
    const loc = (node as acorn.Node).loc!;
    problems.push({ rule, line: loc.start.line, column: loc.start.column + 1, message });
  };
  const declared = declaredNames(ast);

  walk(ast, ({ node, parent, key }) => {
    switch (node.type) {
      case "SpreadElement":
        report(node, "spread", "spread (...x) does not run on Espruino");
        break;
      case "RestElement":
        if (parent && FUNCTION_TYPES.has(parent.type)) report(node, "rest-parameter", "rest parameters (...args) do not run on Espruino; use `arguments`");
        else report(node, "destructuring", "rest in destructuring does not run on Espruino");
        break;
      case "AssignmentPattern":
        if (parent && FUNCTION_TYPES.has(parent.type)) report(node, "default-parameter", "default parameter values do not run on Espruino; test for undefined in the body");
        break;
      case "ObjectPattern":
      case "ArrayPattern":
        if (!(parent && parent.type === "RestElement")) report(node, "destructuring", "destructuring does not run on Espruino");
        break;
      case "Property":
      case "MethodDefinition":
      case "PropertyDefinition":
        if (node.computed && !(parent && parent.type === "ObjectPattern")) report(node, "computed-key", "computed keys ({[k]: v}) do not run on Espruino; assign o[k] = v after creating the object");
        break;
      case "ChainExpression":
        report(node, "optional-chaining", "optional chaining (?.) does not run on Espruino");
        break;
      case "BinaryExpression":
        if (node.operator === "**") report(node, "exponent", "the ** operator does not run on Espruino; use Math.pow");
        break;
      case "AssignmentExpression":
        if (node.operator === "**=") report(node, "exponent", "the **= operator does not run on Espruino; use Math.pow");
        break;
      case "AwaitExpression":
        report(node, "async", "await does not run on Espruino");
        break;
      case "YieldExpression":
        report(node, "generator", "yield does not run on Espruino");
        break;
      case "LabeledStatement":
        report(node, "label", "labelled statements do not run on Espruino");
        break;
      case "Literal":
        if (typeof node.bigint === "string") report(node, "bigint", "BigInt literals do not run on Espruino");
        break;
      case "MemberExpression": {
        const name = staticName(node);
        if (node.object.type === "Identifier" && !declared.has(node.object.name) && name !== null) {
          for (const [obj, prop] of FORBIDDEN_STATICS) {
            if (node.object.name === obj && name === prop) report(node, "forbidden-static", `${obj}.${prop} does not exist on Espruino`);
          }
          if (name === "prototype" && BUILTIN_CONSTRUCTORS.has(node.object.name)) {
            report(node, "builtin-prototype", `${node.object.name}.prototype cannot be read on Espruino (methods read from it are undefined); call the method on an instance, e.g. [].slice.call(x)`);
          }
        }
        break;
      }
      case "Identifier":
        if (isReference(node, parent, key) && !declared.has(node.name)) {
          if (node.name === "BOARD") report(node, "board-constant", "BOARD.* was not replaced: the board config lacks this constant");
          else if (FORBIDDEN_GLOBALS.has(node.name)) report(node, "forbidden-global", `${node.name} does not exist on Espruino`);
          else if (!ESPRUINO_GLOBALS.has(node.name)) report(node, "unknown-global", `${node.name} is not a global on Espruino (a tsc helper? a Node API?)`);
        }
        break;
    }
    if (FUNCTION_TYPES.has(node.type)) {
      if (node.async) report(node, "async", "async functions do not run on Espruino");
      if (node.generator) report(node, "generator", "generators do not run on Espruino");
    }
  });

  problems.push(...useBeforeDefinition(ast));
  problems.push(...globalShadows(ast));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return problems;
}

/** The statements that run at load time: the program body, or the body of a bundler's IIFE wrapper. */
function topLevelStatements(ast: Node): Node[] {
  let body: Node[] = ast.body;
  for (;;) {
    const stmts = body.filter((s) => !(s.type === "ExpressionStatement" && typeof s.directive === "string"));
    if (stmts.length !== 1 || stmts[0].type !== "ExpressionStatement") return body;
    let expr = stmts[0].expression;
    if (expr.type === "UnaryExpression") expr = expr.argument;
    if (expr.type !== "CallExpression" || !FUNCTION_TYPES.has(expr.callee.type) || expr.callee.body.type !== "BlockStatement") return body;
    body = expr.callee.body.body;
  }
}

interface RefSite {
  name: string;
  node: Node;
}

/** References made when `root` runs, not descending into functions that are only created (IIFEs do run). */
function immediateRefs(root: Node): { refs: RefSite[]; calls: RefSite[] } {
  const refs: RefSite[] = [];
  const calls: RefSite[] = [];
  walk(root, ({ node, parent, key }) => {
    if (node !== root && FUNCTION_TYPES.has(node.type)) {
      const isIife = parent && (parent.type === "CallExpression" || parent.type === "NewExpression") && key === "callee";
      if (!isIife) return false;
    }
    if (node.type === "Identifier" && isReference(node, parent, key)) refs.push({ name: node.name, node });
    if ((node.type === "CallExpression" || node.type === "NewExpression") && node.callee.type === "Identifier") {
      calls.push({ name: node.callee.name, node });
    }
    return true;
  });
  return { refs, calls };
}

function useBeforeDefinition(ast: Node): LintProblem[] {
  const stmts = topLevelStatements(ast);
  const definedAt = new Map<string, number>();
  const functionBody = new Map<string, Node>();
  stmts.forEach((s, i) => {
    if (s.type === "FunctionDeclaration" && s.id) {
      if (!definedAt.has(s.id.name)) definedAt.set(s.id.name, i);
      functionBody.set(s.id.name, s);
    } else if (s.type === "VariableDeclaration") {
      for (const d of s.declarations) {
        const names: string[] = [];
        patternNames(d.id, names);
        for (const n of names) if (!definedAt.has(n)) definedAt.set(n, i);
        if (d.id.type === "Identifier" && d.init && FUNCTION_TYPES.has(d.init.type)) functionBody.set(d.id.name, d.init);
      }
    } else if (s.type === "ClassDeclaration" && s.id) {
      if (!definedAt.has(s.id.name)) definedAt.set(s.id.name, i);
    }
  });

  const problems: LintProblem[] = [];
  const seen = new Set<string>();
  const add = (node: Node, message: string): void => {
    const loc = (node as acorn.Node).loc!;
    const k = `${loc.start.line}:${loc.start.column}:${message}`;
    if (seen.has(k)) return;
    seen.add(k);
    problems.push({ rule: "use-before-definition", line: loc.start.line, column: loc.start.column + 1, message });
  };

  stmts.forEach((s, i) => {
    if (s.type === "FunctionDeclaration") return;
    const { refs, calls } = immediateRefs(s);
    for (const r of refs) {
      const d = definedAt.get(r.name);
      if (d !== undefined && d > i) add(r.node, `${r.name} is used before its definition has run (Espruino does not hoist)`);
    }
    // Follow calls into top-level functions: what they touch must be defined by now.
    for (const c of calls) {
      const visited = new Set<string>();
      const queue = [c.name];
      while (queue.length) {
        const fname = queue.shift()!;
        if (visited.has(fname)) continue;
        visited.add(fname);
        const fn = functionBody.get(fname);
        if (!fn) continue;
        const local = declaredNames(fn.body);
        for (const p of fn.params) {
          const names: string[] = [];
          patternNames(p, names);
          names.forEach((n) => local.add(n));
        }
        const inner = immediateRefs(fn.body);
        for (const r of inner.refs) {
          if (local.has(r.name)) continue;
          const d = definedAt.get(r.name);
          if (d !== undefined && d > i) {
            add(c.node, `calling ${c.name} here runs code that uses ${r.name}, which is defined later (Espruino does not hoist)`);
          }
        }
        for (const ic of inner.calls) if (!local.has(ic.name)) queue.push(ic.name);
      }
    }
  });
  return problems;
}

/** Pin names (D0…D31, A0…) and handlers Espruino calls by name. */
const ESPRUINO_RESERVED = /^([DA]\d+|onInit)$/;

/**
 * Without a wrapper function the bundle's top-level names are Espruino
 * globals: one that takes a built-in's name (a minifier picking `g` on a board
 * with a screen, say) would replace the built-in for the whole interpreter.
 */
function globalShadows(ast: Node): LintProblem[] {
  const out: LintProblem[] = [];
  for (const s of ast.body as Node[]) {
    const names: Array<[string, Node]> = [];
    if ((s.type === "FunctionDeclaration" || s.type === "ClassDeclaration") && s.id) names.push([s.id.name, s.id]);
    if (s.type === "VariableDeclaration")
      for (const d of s.declarations) {
        const ns: string[] = [];
        patternNames(d.id, ns);
        for (const n of ns) names.push([n, d.id]);
      }
    for (const [name, node] of names) {
      if (ESPRUINO_GLOBALS.has(name) || ESPRUINO_RESERVED.test(name)) {
        const loc = (node as acorn.Node).loc!;
        out.push({ rule: "global-shadow", line: loc.start.line, column: loc.start.column + 1, message: `top-level ${name} replaces Espruino's global of that name` });
      }
    }
  }
  return out;
}

export function formatProblems(file: string, problems: LintProblem[]): string {
  return problems.map((p) => `${file}:${p.line}:${p.column} ${p.rule}: ${p.message}`).join("\n");
}
