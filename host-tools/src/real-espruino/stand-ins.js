// Stand-ins for what a token has and a Linux build of Espruino lacks (radio,
// LEDs, button, screen, battery), installed in front of the firmware bundle in
// `.bootcde`. They record what the firmware asks of the hardware as lines
// "@PT [type, value]" on the console, deliver scan results and button presses,
// and sample memory inside the firmware's calls. ES5 only: this runs on the
// real interpreter, before the bundle, and its JsVars are counted apart
// (`base`) so that the firmware's own use can be told from the harness's.
var __h = (function () {
  var h = {
    peak: {},
    q: [],
    batt: 80,
    kicks: 0,
    scanCb: null,
    scanOpts: null,
    watch: null,
    phase: "boot",
    sample: 1,
    failWrites: 0,
    inBurst: 0,
    // The sync link: 0 down, 1 up, 2 ending (a disconnect was asked for and
    // has not completed yet); what the firmware's advertising offers; the
    // listeners it registered; link events waiting for the idle loop; the
    // phase to go back to when the link ends.
    link: 0,
    connectable: false,
    asleep: 0,
    ls: {},
    lq: [],
    linkPhase: ""
  };
  h.hex = function (a) {
    var b = new Uint8Array(a),
      s = "";
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  };
  h.out = function (t, v) {
    print("@PT " + JSON.stringify([t, v]));
  };
  // Live JsVars (process.memory() collects garbage first) at this moment,
  // kept as the peak of "phase:tag".
  h.mem = function (tag) {
    if (!h.sample) return;
    var u = process.memory().usage,
      k = h.phase + ":" + tag;
    if (!(h.peak[k] >= u)) h.peak[k] = u;
  };
  h.ret = function (id, v) {
    h.out("ret", { id: id, v: v });
  };
  // The 20 bytes of 0xFD6F service data device k sends in burst `seed`
  // (mirrored by the host in synthetic-crowd.ts).
  h.sd = function (k, seed) {
    var d = new Uint8Array(20);
    d[0] = k & 255;
    d[1] = (k >> 8) & 255;
    d[2] = seed & 255;
    for (var i = 3; i < 20; i++) d[i] = (k * 31 + i * 7 + seed * 13) & 255;
    return d;
  };
  h.rssi = function (k, r) {
    return k % 10 === 9 ? -75 - (r % 3) : -40 - (k % 20) - (r % 3);
  };
  h.device = function (k, seed, r) {
    var d = h.sd(k, seed),
      raw = new Uint8Array(31);
    raw.set([2, 1, 0x1a, 3, 3, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd]);
    raw.set(d, 11);
    return {
      id: "e0:00:00:00:" + (k >> 8) + ":" + (k & 255) + " random",
      rssi: h.rssi(k, r),
      data: raw.buffer,
      services: ["fd6f"],
      serviceData: { fd6f: d.buffer }
    };
  };
  // Packets a GAEN scanner must ignore: not GAEN at all (no services), GAEN
  // service data cut short, and the GAEN UUID listed with another service's data.
  h.unrelated = function (k, r) {
    var x = k % 3;
    if (!x)
      return {
        id: "e1:00:00:00:00:01 random",
        rssi: -45 - r,
        data: new Uint8Array([2, 1, 6, 5, 0xff, 0x90, 5, 1, 2]).buffer,
        manufacturerData: new Uint8Array([1, 2]).buffer
      };
    if (x === 1)
      return {
        id: "e1:00:00:00:00:02 random",
        rssi: -45 - r,
        data: new Uint8Array(12).buffer,
        services: ["fd6f"],
        serviceData: { fd6f: new Uint8Array([k, 1, 2, 3, 4, 5, 6, 7]).buffer }
      };
    return {
      id: "e1:00:00:00:00:03 random",
      rssi: -45 - r,
      data: new Uint8Array(12).buffer,
      services: ["fd6f"],
      serviceData: { feaa: new Uint8Array(20).buffer }
    };
  };
  // As NRF.setScan's filters do: a device passes if one filter's services are all among its own.
  function passes(d, o) {
    var f = o && o.filters;
    if (!f) return true;
    for (var i = 0; i < f.length; i++) {
      var s = f[i].services || [],
        ok = true;
      for (var j = 0; j < s.length; j++) if (!d.services || d.services.indexOf(s[j]) < 0) ok = false;
      if (ok) return true;
    }
    return false;
  }
  // CPU milliseconds of the interpreter (Linux /proc/self/schedstat): unlike
  // getTime(), not inflated when other processes share the host's cores.
  // NaN where unreadable (the figures then fall back to the clock).
  h.cpu = function () {
    try {
      return parseInt(require("fs").readFileSync("/proc/self/schedstat").split(" ")[0], 10) / 1e6;
    } catch (e) {
      return NaN;
    }
  };
  // One scan's crowd: `reps` rounds of `n` devices (interleaved, as packets
  // arrive), each round with one unrelated packet every 7 devices. The same
  // loop with an empty callback first gives the harness's own cost, so `sec`
  // is the firmware's callback time alone; b[3] = 0 turns memory sampling off
  // (it collects garbage at every packet) for a burst that measures time.
  h.burst = function (b) {
    var seed = b[0],
      n = b[1],
      reps = b[2],
      cb = h.scanCb,
      o = h.scanOpts,
      r,
      k,
      d,
      got = 0,
      other = 0,
      was = h.sample;
    h.sample = b[3] === 0 ? 0 : was;
    h.phase = "scan" + n;
    var c0 = h.cpu(),
      t0 = getTime();
    for (r = 0; r < reps; r++) for (k = 0; k < n; k++) passes(h.device(k, seed, r), o);
    var c1 = h.cpu(),
      t1 = getTime();
    h.inBurst = 1;
    for (r = 0; r < reps; r++)
      for (k = 0; k < n; k++) {
        d = h.device(k, seed, r);
        // Delivered even after the firmware stopped the scan: the worst case
        // of packets queued before it stopped, which it must ignore cheaply.
        if (passes(d, o)) {
          cb(d);
          got++;
        }
        // Every 20th packet: a collection per packet would slow the window
        // past the firmware's next timers.
        if (!(k % 20)) h.mem("packet");
        if (k % 7 === 3) {
          d = h.unrelated(k, r);
          if (passes(d, o)) {
            cb(d);
            other++;
          }
        }
      }
    var t2 = getTime(),
      c2 = h.cpu();
    h.inBurst = 0;
    h.sample = was;
    h.out("burst", {
      seed: seed,
      n: n,
      reps: reps,
      packets: got,
      unrelated: other,
      sec: t2 - t1 - (t1 - t0),
      cpuMs: c2 - c1 - (c1 - c0),
      at: t0
    });
  };
  // The sync link, as Espruino on nRF52 delivers it (docs/simulator-espruino.md,
  // "Sync connections"). A test types the central's side on the console:
  // __h.connect(addr, phase), __h.rx(bytes as an 8-bit string), __h.linkEnd(reason).
  // Those are queued and reach the firmware's listeners from a timer, i.e.
  // after the typed line returned, as Espruino hands the stack's events to
  // JavaScript from its idle loop (the typed line's own JsVars are gone by
  // then); writes queued together reach `data` in one call, as Espruino's
  // event FIFO merges them. What the firmware writes is printed as
  // "linkTx" (hex); the link's end as "linkDown" {reason, by}.
  h.listen = function (ev, cb) {
    (h.ls[ev] = h.ls[ev] || []).push(cb);
  };
  h.emit = function (ev, v) {
    var l = h.ls[ev];
    if (l) for (var i = 0; i < l.length; i++) l[i](v);
  };
  h.queue = function (e) {
    if (!h.lq.length) setTimeout(h.flush, 0);
    h.lq.push(e);
  };
  // The events queued so far, in order; events they cause (a disconnect the
  // firmware asks for) wait for the next turn of the idle loop.
  // Entries are taken off as they go, so that the firmware's listener runs
  // with only its own argument (and the one entry) alive of the harness's.
  h.flush = function () {
    var q = h.lq,
      e,
      s;
    h.lq = [];
    // The console keeps every line typed on it (the central's writes among
    // them) in its history, which a token's null console never holds: dropped
    // here, before the firmware runs, or it would fill a Puck.js's memory
    // within a few dozen chunks and take the contiguous blocks crypto results
    // need ("Not enough memory for result").
    delete global["\xff"].history;
    while (q.length) {
      e = q.shift();
      if (e[0] === "c") h.emit("nrf.connect", e[1]);
      else if (e[0] === "d") {
        s = e[1];
        while (q.length && q[0][0] === "d") s += q.shift()[1];
        // Written after the link ended: the radio never carried it.
        if (h.link) h.emit("bt.data", s);
        else h.out("rxDropped", s.length);
      } else if (h.link) {
        h.link = 0;
        h.phase = h.linkPhase;
        h.out("linkDown", { reason: e[1], by: e[2], t: getTime() });
        h.emit("nrf.disconnect", e[1]);
      }
    }
  };
  // A central connects: only to connectable advertising on the air, one at a
  // time (Espruino pauses advertising while connected). Memory is sampled
  // under `phase` ("sync" unless given) while the link is up.
  h.connect = function (addr, phase) {
    if (h.link || !h.connectable || h.asleep) {
      h.out("linkRefused", { up: h.link, connectable: h.connectable, asleep: h.asleep });
      return;
    }
    h.link = 1;
    h.linkPhase = h.phase;
    h.phase = phase || "sync";
    h.out("linkUp", { addr: addr, t: getTime() });
    h.queue(["c", addr]);
  };
  // One ATT write of the central (<= 20 bytes).
  h.rx = function (s) {
    if (h.link) h.queue(["d", s]);
    else h.out("rxDropped", s.length);
  };
  // The central ends the link: 19, REMOTE_USER_TERMINATED_CONNECTION (8: it went out of range).
  h.linkEnd = function (reason) {
    if (h.link !== 1) return;
    h.link = 2;
    h.queue(["x", reason || 19, "central"]);
  };
  // The token's side ends it (NRF.disconnect, NRF.sleep): 22,
  // LOCAL_HOST_TERMINATED_CONNECTION, at a later connection event, after the
  // calling code returned.
  h.drop = function () {
    if (h.link !== 1) return;
    h.link = 2;
    h.queue(["x", 22, "token"]);
  };
  return h;
})();

global.NRF = {
  setAdvertising: function (d, o) {
    __h.mem("advertise");
    __h.connectable = !!(o && o.connectable);
    __h.out("adv", { d: __h.hex(d), o: o, t: getTime() });
  },
  // Off the air, and any link ends (NRF.sleep disconnects).
  sleep: function () {
    __h.asleep = 1;
    __h.out("sleep", getTime());
    __h.drop();
  },
  wake: function () {
    __h.asleep = 0;
    __h.out("wake", getTime());
  },
  setAddress: function (a) {
    __h.mem("address");
    __h.out("addr", a);
  },
  setTxPower: function (p) {
    __h.out("tx", { dbm: p, t: getTime() });
  },
  setScan: function (cb, o) {
    if (!cb) {
      var t = getTime();
      // Stopped in the middle of a crowd (the firmware's packet limit): the
      // window's end, timed below, comes later from the firmware's timer.
      if (__h.scanCb && __h.inBurst) {
        __h.scanCb = null;
        __h.out("scan", { on: 0, t: t, full: 1 });
        return;
      }
      __h.scanCb = null;
      __h.out("scan", { on: 0, t: t });
      var c = __h.cpu();
      // Runs once the firmware's window-end callback has returned.
      setTimeout(function () {
        var cpuMs = __h.cpu() - c;
        __h.mem("scanEnd");
        __h.phase = "idle";
        __h.out("scanEnd", { sec: getTime() - t, cpuMs: cpuMs });
      }, 0);
      return;
    }
    __h.scanCb = cb;
    __h.scanOpts = o;
    __h.out("scan", { on: 1, t: getTime(), o: o });
    var b = __h.q.shift();
    if (b)
      setTimeout(function () {
        __h.burst(b);
      }, 1);
  },
  // Recorded whether or not a central is connected (a window closing asks for it either way).
  disconnect: function () {
    __h.out("disconnect", 0);
    __h.drop();
  },
  on: function (ev, cb) {
    __h.listen("nrf." + ev, cb);
  }
};
global.Bluetooth = {
  on: function (ev, cb) {
    __h.listen("bt." + ev, cb);
  },
  // Sampled first: the frame the firmware hands over is still alive here.
  // With no central connected Espruino drops the bytes.
  write: function (d) {
    __h.mem("linkWrite");
    __h.out(__h.link ? "linkTx" : "linkTxDropped", __h.hex(E.toUint8Array(d)));
  }
};
global.LED1 = "LED1";
global.LED2 = "LED2";
global.LED3 = "LED3";
global.BTN = global.BTN1 = "BTN";
global.digitalWrite = function (pin, v) {
  __h.out("led", [pin, v ? 1 : 0, getTime()]);
};
global.setWatch = function (cb, pin, o) {
  __h.watch = cb;
  __h.out("watch", { pin: pin, o: o });
};
// A press of `ms` milliseconds, as the button's falling edge reports it.
__h.press = function (ms) {
  var t = getTime();
  __h.watch({ state: false, time: t, lastTime: t - ms / 1000 });
};
global.g = {
  c: 0,
  setColor: function (r, gr, b) {
    this.c = [r, gr, b];
    return this;
  },
  fillRect: function () {
    __h.out("screen", this.c.concat([getTime()]));
    return this;
  },
  getWidth: function () {
    return 176;
  },
  getHeight: function () {
    return 176;
  },
  flip: function () {}
};
// Recorded, not done: after the real call print() would go nowhere.
E.setConsole = function (d, o) {
  __h.out("console", { device: d, o: o });
};
E.getBattery = function () {
  return __h.batt;
};
E.enableWatchdog = function (s, auto) {
  __h.out("watchdog", { sec: s, auto: auto });
};
E.kickWatchdog = function () {
  __h.kicks++;
};
__h.q = require("Storage").readJSON("harness.q", true) || [];
// The wrappers are made once, here, and handed out by require(): made at the
// firmware's call they would count as the firmware's JsVars, which a token's
// native modules do not cost.
(function () {
  var builtin = require,
    c = builtin("crypto"),
    s = builtin("Storage");
  var wrapped = {
    crypto: {
      SHA256:
        c.SHA256 &&
        function (d) {
          __h.mem("sha256");
          return c.SHA256(d);
        },
      AES: c.AES && {
        encrypt: function (d, k, o) {
          __h.mem("aes");
          return c.AES.encrypt(d, k, o);
        }
      }
    },
    Storage: {
      read: s.read,
      readArrayBuffer: s.readArrayBuffer,
      write: function (n, d, o, z) {
        __h.mem("write");
        if (__h.failWrites) throw new Error("Unable to find or create file");
        return s.write(n, d, o, z);
      },
      erase: s.erase,
      list: s.list,
      getFree: s.getFree,
      compact: function () {
        __h.mem("compact");
        return s.compact();
      }
    }
  };
  global.require = function (name) {
    return wrapped[name] || builtin(name);
  };
})();
__h.base = process.memory().usage;
__h.t0 = getTime();
