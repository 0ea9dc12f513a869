import { ScenarioResult, SessionResult } from "./token-scenario";

/**
 * The figures a token scenario on the real interpreter gives: JsVars the
 * firmware holds (the stand-ins' own use at boot subtracted) at each load, and
 * time on this host's CPU (token-clock seconds divided by the time scale).
 */
export interface RealFigures {
  board: string;
  jsVarsTotal: number;
  /** JsVars of the stand-ins before the firmware ran (subtracted from every figure below). */
  harnessJsVars: number;
  /** Peak JsVars in use by the firmware, sampled inside its calls, per load. */
  jsVars: {
    boot: number;
    idle: number;
    rotation: number;
    scan200: number;
    windowEnd: number;
    segmentRoll: number;
    afterReboot: number;
    peak: number;
  };
  peakPercent: number;
  /** Milliseconds on this host: boot (bundle top level), self-test, per received packet in a timed 150-device scan, per window end (32 records). */
  hostMs: { boot: number; selfTest: number; perPacket: number; windowEnd200: number };
  /**
   * The same two loads in the interpreter's CPU time (/proc/self/schedstat), which
   * other processes on the host do not inflate: what converts to nRF52 time
   * (nrf52-speed.ts). Null where the host cannot tell.
   */
  hostCpuMs: { perPacket: number | null; windowEnd200: number | null };
}

function maxOf(peaks: Record<string, number>, pred: (k: string) => boolean): number {
  let m = 0;
  for (const [k, v] of Object.entries(peaks)) if (pred(k) && v > m) m = v;
  return m;
}

/**
 * When the token started after its self-test: its first call of the running
 * token (the advertiser sets the transmit power). Not the green blink: a board
 * without a green LED blinks nothing.
 */
function started(s: SessionResult): number | undefined {
  const e = s.events.find((x) => x.type === "tx");
  return e ? (e.value as { t: number }).t : undefined;
}

export function realFigures(r: ScenarioResult): RealFigures {
  const ms = (tokenSeconds: number): number => Number(((tokenSeconds * 1000) / r.timeScale).toFixed(3));
  const f = r.first;
  const less = (n: number): number => (n ? n - f.base : 0);
  const rotation = (k: string): boolean => /:(aes|sha256|address|advertise)$/.test(k) && !k.startsWith("boot:");
  const jsVars = {
    boot: less(
      Math.max(
        maxOf(f.peaks, (k) => k.startsWith("boot:")),
        f.booted
      )
    ),
    idle: less(f.idle),
    rotation: less(maxOf(f.peaks, rotation)),
    scan200: less(maxOf(f.peaks, (k) => k === "scan200:packet")),
    windowEnd: less(maxOf(f.peaks, (k) => k === "scan200:write" || k === "idle:scanEnd")),
    segmentRoll: r.reboot.base ? maxOf(r.reboot.peaks, (k) => k.endsWith(":write")) - r.reboot.base : 0,
    afterReboot: r.reboot.idle - r.reboot.base,
    peak: 0
  };
  jsVars.peak = Math.max(...Object.values(jsVars), Math.max(...Object.values(r.reboot.peaks), r.reboot.booted) - r.reboot.base);
  const timed = f.events.find((e) => e.type === "burst" && (e.value as { seed: number }).seed === 3)!;
  const b = timed.value as { packets: number; sec: number; cpuMs: number | null };
  const end = f.events.find((e) => e.index > timed.index && e.type === "scanEnd")!.value as { sec: number; cpuMs: number | null };
  const cpu = (x: number | null | undefined, d = 1): number | null =>
    typeof x === "number" && Number.isFinite(x) ? Number((x / d).toFixed(3)) : null;
  const sleep = f.events.find((e) => e.type === "sleep")!.value as number;
  return {
    board: r.board,
    jsVarsTotal: f.total,
    harnessJsVars: f.base,
    jsVars,
    peakPercent: Number(((100 * jsVars.peak) / f.total).toFixed(1)),
    hostMs: {
      boot: ms(f.events.find((e) => e.type === "bootTime")!.value as number),
      selfTest: ms((started(f) ?? sleep) - sleep),
      perPacket: Number((ms(b.sec) / b.packets).toFixed(3)),
      windowEnd200: ms(end.sec)
    },
    hostCpuMs: { perPacket: cpu(b.cpuMs, b.packets), windowEnd200: cpu(end.cpuMs) }
  };
}
