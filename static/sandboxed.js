// Provider script runs in a sandboxed frame with an opaque origin (see
// templates/embed/script_sandbox.html). This one file plays both sides:
// - inside that frame it tells the embedguard page around it how tall the content is,
//   and only that page (the frame's base URL names it);
// - on the embedguard page it sizes the frame from those messages, accepting them only
//   from the frame's own window.
"use strict";

(function () {
  const TYPE = "embedguard:sandbox-size";
  const MAX_HEIGHT = 20000;

  function insideSandbox() {
    let parentOrigin;
    try {
      parentOrigin = new URL(document.baseURI).origin;
    } catch (error) {
      return;
    }
    let last = -1;
    function report() {
      const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: TYPE, height: height }, parentOrigin);
      }
    }
    function start() {
      report();
      if ("ResizeObserver" in window) {
        new ResizeObserver(report).observe(document.documentElement);
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
      if (!frame || !data || data.type !== TYPE || typeof data.height !== "number") {
        return;
      }
      const height = Math.min(Math.max(Math.ceil(data.height), 0), MAX_HEIGHT);
      frame.style.height = height + "px";
    });
  }

  if (self.origin === "null") {
    insideSandbox();
  } else {
    aroundSandbox();
  }
})();
