/**
 * Floor plan geometry: rooms are axis-aligned rectangles, and a wall is
 * crossed wherever the straight line between two points crosses a room's
 * boundary. Two adjacent rooms share one physical wall, so crossings closer
 * together than `SAME_WALL_M` along the line count once (with the larger loss).
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface WalledRoom extends Rect {
  /** Loss in dB of one crossing of this room's boundary. */
  wallLossDb: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Crossings this close together (metres along the line) are one wall. */
const SAME_WALL_M = 0.35;

export function contains(r: Rect, p: Point): boolean {
  return p.x >= r.x && p.x <= r.x + r.w && p.y >= r.y && p.y <= r.y + r.h;
}

/**
 * Push onto `out` the line parameters t ∈ (0, 1) at which segment a→b crosses
 * the boundary of `r` (0, 1 or 2 of them).
 */
function boundaryCrossings(r: Rect, ax: number, ay: number, bx: number, by: number, out: number[]): void {
  const dx = bx - ax;
  const dy = by - ay;
  const x1 = r.x + r.w;
  const y1 = r.y + r.h;
  // Each edge: solve along the segment, keep hits that land on the edge.
  if (dx !== 0) {
    for (let k = 0; k < 2; k++) {
      const t = ((k === 0 ? r.x : x1) - ax) / dx;
      if (t > 0 && t < 1) {
        const y = ay + t * dy;
        if (y >= r.y && y <= y1) out.push(t);
      }
    }
  }
  if (dy !== 0) {
    for (let k = 0; k < 2; k++) {
      const t = ((k === 0 ? r.y : y1) - ay) / dy;
      if (t > 0 && t < 1) {
        const x = ax + t * dx;
        // Strict on x so a corner hit is not counted twice by both edges.
        if (x > r.x && x < x1) out.push(t);
      }
    }
  }
}

// Scratch space for crossings (line parameter and loss), reused across calls: this runs for every link whose ends moved.
const hitT: number[] = [];
const hitLoss: number[] = [];
const scratch: number[] = [];

/** Total wall loss in dB along the straight line from a to b. */
export function wallLossDb(rooms: readonly WalledRoom[], a: Point, b: Point): number {
  const minX = Math.min(a.x, b.x);
  const maxX = Math.max(a.x, b.x);
  const minY = Math.min(a.y, b.y);
  const maxY = Math.max(a.y, b.y);
  let n = 0;
  for (const r of rooms) {
    // Cheap reject: the segment's bounding box misses the room entirely.
    if (r.x > maxX || r.x + r.w < minX || r.y > maxY || r.y + r.h < minY) continue;
    scratch.length = 0;
    boundaryCrossings(r, a.x, a.y, b.x, b.y, scratch);
    for (const t of scratch) {
      // Insertion into the sorted crossing list (a handful of entries).
      let j = n++;
      while (j > 0 && hitT[j - 1] > t) {
        hitT[j] = hitT[j - 1];
        hitLoss[j] = hitLoss[j - 1];
        j--;
      }
      hitT[j] = t;
      hitLoss[j] = r.wallLossDb;
    }
  }
  if (n === 0) return 0;
  const len = Math.hypot(b.x - a.x, b.y - a.y);
  let total = 0;
  let groupEnd = -Infinity;
  let groupLoss = 0;
  for (let i = 0; i < n; i++) {
    const s = hitT[i] * len;
    if (s - groupEnd <= SAME_WALL_M) {
      groupLoss = Math.max(groupLoss, hitLoss[i]);
    } else {
      total += groupLoss;
      groupLoss = hitLoss[i];
    }
    groupEnd = s;
  }
  return total + groupLoss;
}

/** Number of distinct walls crossed (for tests and reports). */
export function wallsCrossed(rooms: readonly Rect[], a: Point, b: Point): number {
  return Math.round(
    wallLossDb(
      rooms.map((r) => ({ ...r, wallLossDb: 1 })),
      a,
      b
    )
  );
}
