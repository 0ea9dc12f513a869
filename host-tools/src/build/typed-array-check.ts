import * as path from "node:path";
import * as ts from "typescript";
import { LintProblem } from "./lint";
import { firmwareDir } from "../paths";
import { UserError } from "../errors";

/**
 * A type-aware check of the firmware's TypeScript sources for two typed-array
 * behaviours where Espruino 2v29 differs from V8, both of which once shipped
 * and silenced every token (see docs/firmware-build.md):
 *
 * - `slice()` and `filter()` on a typed array return a plain Array (no
 *   `subarray`, `set`, `buffer`). The types say exactly which receivers are
 *   typed arrays, so this rule is sound for strictly typed code.
 * - A negative typed-array index throws where V8 gives `undefined`. Whether an
 *   index is negative is undecidable in general, so the rule is conservative
 *   and syntactic: every subtraction, unary minus, `~` or `--` that flows into
 *   a typed-array index must be shown non-negative by a guard this checker
 *   recognises, or carry an `// espruino-index-ok: <reason>` comment.
 *
 * The bundle lint cannot do either: after minification nothing says which
 * value is a typed array.
 */

export type TypedArrayRule = "typed-array-slice" | "typed-array-filter" | "typed-array-negative-index" | "index-escape";

/** The bundle lint's problem shape, with the source file it is in (the check spans many files). */
export interface SourceProblem extends Omit<LintProblem, "rule"> {
  rule: TypedArrayRule;
  file: string;
}

const TYPED_ARRAYS = new Set([
  "Uint8Array",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "Uint8ClampedArray"
]);

/** Methods whose result is a plain Array on Espruino (checked on the real interpreter), with the fix. */
const PLAIN_ARRAY_METHODS: ReadonlyMap<string, { rule: TypedArrayRule; message: string }> = new Map([
  [
    "slice",
    {
      rule: "typed-array-slice",
      message: "typed-array slice() returns a plain Array on Espruino: use subarray() for a view or new Uint8Array(x.subarray(a, b)) for a copy"
    }
  ],
  [
    "filter",
    {
      rule: "typed-array-filter",
      message: "typed-array filter() returns a plain Array on Espruino: count the matches, then fill a new typed array of that length"
    }
  ]
]);

const ESCAPE = /^\/\/\s*espruino-index-ok\b(:?)(.*)$/;

/** A value a guard can bound: a variable, or the `length` of a typed-array variable (which never changes). */
interface Key {
  symbol: ts.Symbol;
  length: boolean;
}

/** `key >= bound` holds. */
interface Fact {
  key: Key;
  bound: number;
}

/** Where a guard holds, and which writes of the guarded variable it survives. */
interface Guard {
  facts: Fact[];
  region: ts.Node[];
  /**
   * A `for (i = N; …; i++)` start only bounds later iterations if nothing in
   * the loop lowers `i`; a condition is re-tested before each entry, so the
   * one decrement being checked (`while (i > 0) w[--i]`) is fine there.
   */
  incrementsOnly: boolean;
}

interface WriteSite {
  node: ts.Node;
  increment: boolean;
  fn: ts.Node;
}

interface Escape {
  line: number;
  column: number;
  covers: number;
  reason: string;
  used: boolean;
}

function isTypedArrayType(program: ts.Program, checker: ts.TypeChecker, type: ts.Type, seen: Set<ts.Type> = new Set()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  if (type.isUnionOrIntersection()) return type.types.some((t) => isTypedArrayType(program, checker, t, seen));
  if (type.flags & ts.TypeFlags.TypeParameter) {
    const c = checker.getBaseConstraintOfType(type);
    return c !== undefined && isTypedArrayType(program, checker, c, seen);
  }
  const sym = type.getSymbol();
  if (sym && TYPED_ARRAYS.has(sym.getName())) {
    // Only the built-in: a firmware class that happens to share the name is not Espruino's.
    if ((sym.getDeclarations() ?? []).some((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()))) return true;
  }
  const objectType = type.flags & ts.TypeFlags.Object ? (type as ts.ObjectType) : undefined;
  if (objectType) {
    // A subclass of Uint8Array inherits Espruino's slice().
    const target = objectType.objectFlags & ts.ObjectFlags.Reference ? (objectType as ts.TypeReference).target : objectType;
    if (target.objectFlags & ts.ObjectFlags.ClassOrInterface) {
      for (const base of checker.getBaseTypes(target as ts.InterfaceType)) if (isTypedArrayType(program, checker, base, seen)) return true;
    }
  }
  return false;
}

function stripParens(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

function numericValue(e: ts.Expression): number | undefined {
  e = stripParens(e);
  if (ts.isNumericLiteral(e)) return Number(e.text.replace(/_/g, ""));
  if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)) {
    const v = numericValue(e.operand);
    return v === undefined ? undefined : e.operator === ts.SyntaxKind.MinusToken ? -v : v;
  }
  return undefined;
}

function isNonNegativeLiteral(e: ts.Expression): boolean {
  const v = numericValue(e);
  return v !== undefined && v >= 0;
}

function containingFunction(node: ts.Node): ts.Node {
  let n = node.parent;
  while (n && !ts.isFunctionLike(n) && !ts.isSourceFile(n) && !ts.isClassStaticBlockDeclaration(n)) n = n.parent;
  return n ?? node.getSourceFile();
}

function isIteration(n: ts.Node): boolean {
  return ts.isForStatement(n) || ts.isWhileStatement(n) || ts.isDoStatement(n) || ts.isForInStatement(n) || ts.isForOfStatement(n);
}

/** True when control never reaches the statement after `s` (it returns, throws, breaks or continues). */
function alwaysExits(s: ts.Statement): boolean {
  if (ts.isReturnStatement(s) || ts.isThrowStatement(s) || ts.isBreakStatement(s) || ts.isContinueStatement(s)) return true;
  if (ts.isBlock(s)) return s.statements.length > 0 && alwaysExits(s.statements[s.statements.length - 1]);
  if (ts.isIfStatement(s)) return s.elseStatement !== undefined && alwaysExits(s.thenStatement) && alwaysExits(s.elseStatement);
  return false;
}

function within(node: ts.Node, region: ts.Node): boolean {
  return node.pos >= region.pos && node.end <= region.end;
}

class FileChecker {
  private readonly problems: SourceProblem[] = [];
  private readonly writes = new Map<ts.Symbol, WriteSite[]>();
  private readonly escapes: Escape[] = [];

  constructor(
    private readonly program: ts.Program,
    private readonly checker: ts.TypeChecker,
    private readonly sf: ts.SourceFile
  ) {}

  run(): SourceProblem[] {
    this.collectWrites(this.sf);
    this.collectEscapes();
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) this.checkMethod(node.expression, node.name.text, node.name);
      if (ts.isElementAccessExpression(node)) {
        const arg = stripParens(node.argumentExpression);
        if (ts.isStringLiteralLike(arg)) this.checkMethod(node.expression, arg.text, arg);
        else if (this.isTypedArray(node.expression)) this.checkIndex(node);
      }
      ts.forEachChild(node, visit);
    };
    visit(this.sf);
    for (const e of this.escapes) {
      if (!e.reason) this.report(e.line, e.column, "index-escape", "an espruino-index-ok comment needs a reason after the colon: why is the index never negative?");
      else if (!e.used) this.report(e.line, e.column, "index-escape", "this espruino-index-ok comment covers no flagged index: remove it");
    }
    return this.problems;
  }

  private isTypedArray(e: ts.Expression): boolean {
    return isTypedArrayType(this.program, this.checker, this.checker.getTypeAtLocation(e));
  }

  private report(line: number, column: number, rule: TypedArrayRule, message: string): void {
    this.problems.push({ file: this.sf.fileName, line, column, rule, message });
  }

  private reportAt(node: ts.Node, rule: TypedArrayRule, message: string): void {
    const lc = this.sf.getLineAndCharacterOfPosition(node.getStart(this.sf));
    this.report(lc.line + 1, lc.character + 1, rule, message);
  }

  private checkMethod(receiver: ts.Expression, name: string, at: ts.Node): void {
    const m = PLAIN_ARRAY_METHODS.get(name);
    if (m && this.isTypedArray(receiver)) this.reportAt(at, m.rule, m.message);
  }

  // ---- negative indexes --------------------------------------------------

  private checkIndex(access: ts.ElementAccessExpression): void {
    const risky: ts.Expression[] = [];
    collectRisky(access.argumentExpression, risky);
    for (const r of risky) {
      if (this.provenNonNegative(r)) continue;
      const line = this.sf.getLineAndCharacterOfPosition(r.getStart(this.sf)).line + 1;
      const esc = this.escapes.find((e) => e.covers === line && e.reason);
      if (esc) {
        esc.used = true;
        continue;
      }
      const idx = r.getText(this.sf);
      const whole = access.getText(this.sf).replace(/\s+/g, " ");
      const guard = guardHint(r, this.sf);
      this.reportAt(
        r,
        "typed-array-negative-index",
        `${whole.length > 60 ? "" : `${whole}: `}${idx} may be negative, and a negative typed-array index throws on Espruino (V8 gives undefined): ` +
          `guard it (${guard}) or, if it cannot be negative, say why in a "// espruino-index-ok: <reason>" comment on the line above or at its end`
      );
    }
  }

  private provenNonNegative(r: ts.Expression): boolean {
    if (ts.isBinaryExpression(r) && r.operatorToken.kind === ts.SyntaxKind.MinusToken) {
      const k = numericValue(r.right);
      if (k === undefined || k < 0) return false;
      const a = numericValue(r.left);
      if (a !== undefined) return a - k >= 0;
      const key = this.keyOf(r.left);
      return key !== undefined && this.proveAtLeast(r, key, k, undefined);
    }
    if (ts.isPrefixUnaryExpression(r) && r.operator === ts.SyntaxKind.MinusMinusToken) {
      const key = this.keyOf(r.operand);
      return key !== undefined && !key.length && this.proveAtLeast(r, key, 1, r);
    }
    return false;
  }

  private keyOf(e: ts.Expression): Key | undefined {
    e = stripParens(e);
    if (ts.isIdentifier(e)) {
      const symbol = this.checker.getSymbolAtLocation(e);
      return symbol ? { symbol, length: false } : undefined;
    }
    if (ts.isPropertyAccessExpression(e) && e.name.text === "length" && ts.isIdentifier(e.expression) && this.isTypedArray(e.expression)) {
      const symbol = this.checker.getSymbolAtLocation(e.expression);
      return symbol ? { symbol, length: true } : undefined;
    }
    return undefined;
  }

  /**
   * Walks out from `node` to its function, looking for a guard that gives
   * key >= k over a region the guarded variable is not lowered in.
   */
  private proveAtLeast(node: ts.Node, key: Key, k: number, selfWrite: ts.Node | undefined): boolean {
    const fn = containingFunction(node);
    const sites = this.writes.get(key.symbol) ?? [];
    // A write from another function (a closure called in the region, say) can
    // run anywhere inside the region. The declaring function's own writes
    // cannot: its frame waits below this one, and a new call of it gets a new
    // variable (the module's top level runs once).
    const decl = key.symbol.valueDeclaration;
    const home = decl ? containingFunction(decl) : undefined;
    if (sites.some((w) => w.fn !== fn && w.fn !== home)) return false;
    let child: ts.Node = node;
    let parent: ts.Node | undefined = node.parent;
    let loopBetween = false;
    while (parent && !ts.isFunctionLike(parent) && !ts.isClassStaticBlockDeclaration(parent)) {
      for (const g of this.guardsAt(parent, child)) {
        if (!g.facts.some((f) => sameKey(f.key, key) && f.bound >= k)) continue;
        const allowed = g.incrementsOnly || loopBetween ? undefined : selfWrite;
        const lowered = sites.some((w) => w.node !== allowed && g.region.some((r) => within(w.node, r)) && (key.length || !w.increment));
        if (!lowered) return true;
      }
      if (isIteration(parent) && !(ts.isForStatement(parent) && child === parent.initializer)) loopBetween = true;
      child = parent;
      parent = parent.parent;
    }
    return false;
  }

  private guardsAt(parent: ts.Node, child: ts.Node): Guard[] {
    const cond = (c: ts.Expression, truth: boolean, branch: ts.Node): Guard => ({ facts: this.facts(c, truth), region: [c, branch], incrementsOnly: false });
    if (ts.isIfStatement(parent)) {
      if (child === parent.thenStatement) return [cond(parent.expression, true, child)];
      if (child === parent.elseStatement) return [cond(parent.expression, false, child)];
    } else if (ts.isConditionalExpression(parent)) {
      if (child === parent.whenTrue) return [cond(parent.condition, true, child)];
      if (child === parent.whenFalse) return [cond(parent.condition, false, child)];
    } else if (ts.isBinaryExpression(parent) && child === parent.right) {
      if (parent.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken) return [cond(parent.left, true, child)];
      if (parent.operatorToken.kind === ts.SyntaxKind.BarBarToken) return [cond(parent.left, false, child)];
    } else if (ts.isWhileStatement(parent) && child === parent.statement) {
      return [cond(parent.expression, true, child)];
    } else if (ts.isForStatement(parent) && child !== parent.initializer) {
      const out: Guard[] = [];
      if (parent.condition && child === parent.statement) out.push(cond(parent.condition, true, child));
      const start = this.loopStart(parent);
      if (start) {
        const region = [parent.condition, parent.incrementor, parent.statement].filter((n): n is NonNullable<typeof n> => n !== undefined);
        out.push({ facts: [start], region, incrementsOnly: true });
      }
      return out;
    } else if (ts.isBlock(parent) || ts.isSourceFile(parent) || ts.isCaseClause(parent) || ts.isDefaultClause(parent) || ts.isModuleBlock(parent)) {
      // `if (i < k) return;` (or continue, break, throw) bounds what follows it.
      const stmts = parent.statements;
      const at = stmts.indexOf(child as ts.Statement);
      const out: Guard[] = [];
      for (let j = 0; j < at; j++) {
        const s = stmts[j];
        if (ts.isIfStatement(s) && !s.elseStatement && alwaysExits(s.thenStatement)) {
          out.push({ facts: this.facts(s.expression, false), region: [s.expression, ...stmts.slice(j + 1, at + 1)], incrementsOnly: false });
        }
      }
      return out;
    }
    return [];
  }

  /** `for (i = N; …)` or `for (var i = N; …)` with a numeric literal N. */
  private loopStart(loop: ts.ForStatement): Fact | undefined {
    const init = loop.initializer;
    if (!init) return undefined;
    const assigns: Array<[ts.Expression | ts.BindingName, ts.Expression | undefined]> = [];
    if (ts.isVariableDeclarationList(init)) for (const d of init.declarations) assigns.push([d.name, d.initializer]);
    else {
      const collect = (e: ts.Expression): void => {
        e = stripParens(e);
        if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.CommaToken) {
          collect(e.left);
          collect(e.right);
        } else if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) assigns.push([e.left, e.right]);
      };
      collect(init);
    }
    for (const [target, value] of assigns) {
      if (!ts.isIdentifier(target) || !value) continue;
      const n = numericValue(value);
      const symbol = this.checker.getSymbolAtLocation(target);
      // Only one fact per loop: the checker asks about one variable at a time, and
      // a loop starting two counters is rare enough to write as a guard.
      if (n !== undefined && symbol) return { key: { symbol, length: false }, bound: n };
    }
    return undefined;
  }

  /** What `c` being `truth` says about lower bounds. Integer values assumed: `i > 15` gives `i >= 16`. */
  private facts(c: ts.Expression, truth: boolean): Fact[] {
    c = stripParens(c);
    if (ts.isPrefixUnaryExpression(c) && c.operator === ts.SyntaxKind.ExclamationToken) return this.facts(c.operand, !truth);
    const bare = this.keyOf(c);
    // A length is never negative, so a true one is at least 1 (a true number could be -1).
    if (bare) return bare.length && truth ? [{ key: bare, bound: 1 }] : [];
    if (!ts.isBinaryExpression(c)) return [];
    const op = c.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken) return truth ? [...this.facts(c.left, true), ...this.facts(c.right, true)] : [];
    if (op === ts.SyntaxKind.BarBarToken) return truth ? [] : [...this.facts(c.left, false), ...this.facts(c.right, false)];
    let key = this.keyOf(c.left);
    let n = numericValue(c.right);
    let kind: ts.SyntaxKind = op;
    if (!key || n === undefined) {
      // `16 <= i` reads as `i >= 16`.
      key = this.keyOf(c.right);
      n = numericValue(c.left);
      kind = FLIP.get(op) ?? op;
    }
    if (!key || n === undefined) return [];
    const k = key;
    const bound = (b: number): Fact[] => [{ key: k, bound: b }];
    const S = ts.SyntaxKind;
    if (k.length && n === 0 && (truth ? kind === S.ExclamationEqualsEqualsToken || kind === S.ExclamationEqualsToken : kind === S.EqualsEqualsEqualsToken || kind === S.EqualsEqualsToken)) {
      return bound(1);
    }
    if (truth) {
      if (kind === S.GreaterThanEqualsToken || kind === S.EqualsEqualsEqualsToken || kind === S.EqualsEqualsToken) return bound(Math.ceil(n));
      if (kind === S.GreaterThanToken) return bound(Math.floor(n) + 1);
    } else {
      if (kind === S.LessThanToken || kind === S.ExclamationEqualsEqualsToken || kind === S.ExclamationEqualsToken) return bound(Math.ceil(n));
      if (kind === S.LessThanEqualsToken) return bound(Math.floor(n) + 1);
    }
    return [];
  }

  // ---- per-file tables ----------------------------------------------------

  private collectWrites(root: ts.Node): void {
    const add = (id: ts.Identifier, node: ts.Node, increment: boolean): void => {
      const symbol = this.checker.getSymbolAtLocation(id);
      if (!symbol) return;
      const list = this.writes.get(symbol) ?? [];
      list.push({ node, increment, fn: containingFunction(node) });
      this.writes.set(symbol, list);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isBinaryExpression(node)) {
        const k = node.operatorToken.kind;
        const target = stripParens(node.left);
        if (k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment && ts.isIdentifier(target)) {
          add(target, node, k === ts.SyntaxKind.PlusEqualsToken && isNonNegativeLiteral(node.right));
        }
      } else if (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) {
        const target = stripParens(node.operand);
        if ((node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken) && ts.isIdentifier(target)) {
          add(target, node, node.operator === ts.SyntaxKind.PlusPlusToken);
        }
      } else if (ts.isVariableDeclaration(node) && node.initializer && ts.isIdentifier(node.name)) {
        add(node.name, node, false);
      } else if ((ts.isForInStatement(node) || ts.isForOfStatement(node)) && ts.isIdentifier(node.initializer)) {
        add(node.initializer, node.initializer, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(root);
  }

  private collectEscapes(): void {
    const text = this.sf.getFullText();
    const seen = new Set<number>();
    const take = (ranges: ts.CommentRange[] | undefined): void => {
      for (const r of ranges ?? []) {
        if (seen.has(r.pos) || r.kind !== ts.SyntaxKind.SingleLineCommentTrivia) continue;
        seen.add(r.pos);
        const m = ESCAPE.exec(text.slice(r.pos, r.end));
        if (!m) continue;
        const lc = this.sf.getLineAndCharacterOfPosition(r.pos);
        const lineStart = this.sf.getPositionOfLineAndCharacter(lc.line, 0);
        const ownLine = text.slice(lineStart, r.pos).trim() === "";
        this.escapes.push({
          line: lc.line + 1,
          column: lc.character + 1,
          covers: ownLine ? lc.line + 2 : lc.line + 1,
          reason: m[1] === ":" ? m[2].trim() : "",
          used: false
        });
      }
    };
    const visit = (node: ts.Node): void => {
      take(ts.getLeadingCommentRanges(text, node.getFullStart()));
      take(ts.getTrailingCommentRanges(text, node.getEnd()));
      ts.forEachChild(node, visit);
    };
    visit(this.sf);
    take(ts.getLeadingCommentRanges(text, this.sf.endOfFileToken.getFullStart()));
  }
}

/** The guard that would prove `r`, in the reader's own names where the index has the `x - k` shape. */
function guardHint(r: ts.Expression, sf: ts.SourceFile): string {
  if (ts.isBinaryExpression(r) && r.operatorToken.kind === ts.SyntaxKind.MinusToken && isNonNegativeLiteral(r.right)) {
    const x = stripParens(r.left).getText(sf);
    const k = r.right.getText(sf);
    return ts.isIdentifier(stripParens(r.left)) ? `if (${x} >= ${k}) …, or a loop from ${x} = ${k} that only counts up` : `if (${x} >= ${k}) …`;
  }
  if (ts.isPrefixUnaryExpression(r) && r.operator === ts.SyntaxKind.MinusMinusToken) return `while (${r.operand.getText(sf)} > 0) …`;
  return "a subtraction of a literal from a guarded variable, e.g. if (i >= 1) … x[i - 1]";
}

const FLIP: ReadonlyMap<ts.SyntaxKind, ts.SyntaxKind> = new Map([
  [ts.SyntaxKind.LessThanToken, ts.SyntaxKind.GreaterThanToken],
  [ts.SyntaxKind.LessThanEqualsToken, ts.SyntaxKind.GreaterThanEqualsToken],
  [ts.SyntaxKind.GreaterThanToken, ts.SyntaxKind.LessThanToken],
  [ts.SyntaxKind.GreaterThanEqualsToken, ts.SyntaxKind.LessThanEqualsToken]
]);

function sameKey(a: Key, b: Key): boolean {
  return a.symbol === b.symbol && a.length === b.length;
}

/**
 * The parts of an index expression whose value can make the index negative:
 * subtractions, unary minus (negative literals included), `~`, `-=` and `--x`.
 * Values that only pass through a call or another element access are not
 * followed: their sign says nothing about this index (and a nested typed-array
 * index is checked on its own).
 */
function collectRisky(e: ts.Expression, out: ts.Expression[]): void {
  e = stripParens(e);
  if (ts.isBinaryExpression(e)) {
    const k = e.operatorToken.kind;
    const S = ts.SyntaxKind;
    if (k === S.MinusToken || k === S.MinusEqualsToken) out.push(e);
    // x >>> n and x & MASK are never negative, whatever x is.
    else if (k === S.GreaterThanGreaterThanGreaterThanToken) return;
    else if (k === S.AmpersandToken && (isNonNegativeLiteral(e.left) || isNonNegativeLiteral(e.right))) return;
    else if (k === S.CommaToken || (k >= S.FirstAssignment && k <= S.LastAssignment)) collectRisky(e.right, out);
    else if (k >= S.FirstBinaryOperator && k <= S.LastBinaryOperator && !COMPARISONS.has(k)) {
      collectRisky(e.left, out);
      collectRisky(e.right, out);
    }
  } else if (ts.isPrefixUnaryExpression(e)) {
    const S = ts.SyntaxKind;
    if (e.operator === S.MinusToken || e.operator === S.TildeToken || e.operator === S.MinusMinusToken) out.push(e);
    else if (e.operator === S.PlusToken) collectRisky(e.operand, out);
  } else if (ts.isConditionalExpression(e)) {
    collectRisky(e.whenTrue, out);
    collectRisky(e.whenFalse, out);
  }
}

const COMPARISONS = new Set([
  ts.SyntaxKind.LessThanToken,
  ts.SyntaxKind.LessThanEqualsToken,
  ts.SyntaxKind.GreaterThanToken,
  ts.SyntaxKind.GreaterThanEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.InstanceOfKeyword,
  ts.SyntaxKind.InKeyword
]);

/** Checks every source file of `program` that is not a declaration, a library or a dependency. */
export function checkTypedArrays(program: ts.Program): SourceProblem[] {
  const checker = program.getTypeChecker();
  const out: SourceProblem[] = [];
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || program.isSourceFileDefaultLibrary(sf) || program.isSourceFileFromExternalLibrary(sf)) continue;
    out.push(...new FileChecker(program, checker, sf).run());
  }
  out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return out;
}

/** The check on its own, for the sources `tsconfig` names (the firmware's by default). */
export function checkFirmwareSources(tsconfig: string = path.join(firmwareDir, "tsconfig.json")): SourceProblem[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new UserError(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    }
  });
  if (!parsed) throw new UserError(`cannot read ${tsconfig}`);
  return checkTypedArrays(ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } }));
}

/** One `file:line:column rule: message` line per problem, as the bundle lint prints. */
export function formatSourceProblems(problems: SourceProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.rule}: ${p.message}`).join("\n");
}
