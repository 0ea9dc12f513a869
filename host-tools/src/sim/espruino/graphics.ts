/**
 * Espruino's `g` (Graphics) on boards whose config has a screen, reduced to
 * what tells a wearer something: the colour that last filled the whole screen.
 * Drawing that covers less than the whole screen is accepted and not modelled.
 */
import type { BoardConfig } from "../../build/boards";
import type { TokenRuntime } from "./runtime";

export interface Screen {
  /** Install `g` for a new boot (the screen starts black), on boards with a screen. */
  install(g: Record<string, unknown>): void;
  /** Components (0/1) of the last full-screen fill; black before any. */
  colour(): { red: boolean; green: boolean; blue: boolean };
}

export function createScreen(board: BoardConfig, rt: TokenRuntime): Screen {
  let current = { red: false, green: false, blue: false };
  return {
    colour: () => ({ ...current }),
    install(g) {
      current = { red: false, green: false, blue: false };
      const size = board.screen;
      if (!size) return;
      let pen = { red: false, green: false, blue: false };
      const gfx = new rt.realm.intrinsics.Object() as Record<string, unknown>;
      gfx.setColor = (r: unknown, gg: unknown, b: unknown) => {
        rt.guard();
        // Espruino: three components 0..1, or one colour number for the whole.
        if (gg === undefined) {
          const n = Number(r);
          pen = { red: (n & 0xf800) !== 0, green: (n & 0x07e0) !== 0, blue: (n & 0x001f) !== 0 };
        } else pen = { red: Number(r) >= 0.5, green: Number(gg) >= 0.5, blue: Number(b) >= 0.5 };
        return gfx;
      };
      gfx.fillRect = (x1: unknown, y1: unknown, x2: unknown, y2: unknown) => {
        rt.guard();
        const covers = Number(x1) <= 0 && Number(y1) <= 0 && Number(x2) >= size.width - 1 && Number(y2) >= size.height - 1;
        if (covers) current = { ...pen };
        return gfx;
      };
      gfx.clear = () => {
        rt.guard();
        current = { red: false, green: false, blue: false };
        return gfx;
      };
      gfx.getWidth = () => size.width;
      gfx.getHeight = () => size.height;
      gfx.flip = () => {
        rt.guard();
      };
      g.g = gfx;
    }
  };
}
