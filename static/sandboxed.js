// Provider script runs in a sandboxed frame with an opaque origin (see
// templates/embed/script_sandbox.html). This one file plays both sides:
// - inside that frame it tells the embedguard page around it how tall the content is,
//   and only that page (the frame's base URL names it);
// - on the embedguard page it sizes the frame from those messages, accepting them only
//   from the frame's own window.
// Either side may start first (the outer copy is deferred, the inner one is not), so the
// outer side asks each frame for its height once it listens; a report sent before that
// would otherwise be lost until the content changes size.
"use strict";

(function () {
  const SIZE = "embedguard:sandbox-size";
  const ASK = "embedguard:sandbox-ask";
  const MAX_HEIGHT = 20000;

  function insideSandbox() {
    let parentOrigin;
    try {
      parentOrigin = new URL(document.baseURI).origin;
    } catch (error) {
      return;
    }
    let last = -1;
    function report(always) {
      const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (always || height !== last) {
        last = height;
        window.parent.postMessage({ type: SIZE, height: height }, parentOrigin);
      }
    }
    window.addEventListener("message", (event) => {
      if (event.source === window.parent && event.data && event.data.type === ASK) {
        report(true);
      }
    });
    function start() {
      report(false);
      if ("ResizeObserver" in window) {
        new ResizeObserver(() => report(false)).observe(document.documentElement);
      }
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  }

  function aroundSandbox() {
    const frames = Array.from(document.querySelectorAll("iframe[data-eg-sandbox]"));
    window.addEventListener("message", (event) => {
      const frame = frames.find((f) => f.contentWindow === event.source);
      const data = event.data;
      if (!frame || !data || data.type !== SIZE || typeof data.height !== "number") {
        return;
      }
      const height = Math.min(Math.max(Math.ceil(data.height), 0), MAX_HEIGHT);
      frame.style.height = height + "px";
    });
    for (const frame of frames) {
      // The frame's origin is opaque, so "*" is the only target that reaches it; the
      // question carries nothing but its type.
      const ask = () => frame.contentWindow && frame.contentWindow.postMessage({ type: ASK }, "*");
      frame.addEventListener("load", ask);
      ask();
    }
  }

  if (self.origin === "null") {
    insideSandbox();
  } else {
    aroundSandbox();
  }
})();
