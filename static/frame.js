// Embed pages, placeholder and loaded. Everything here is an enhancement; without it the
// page works the same, in a frame of fixed size.
// - Tells the framing page how tall this page is, but only when that page's origin is one
//   of those allowed to frame us (data-eg-parents on this script's element), and only
//   to that origin.
// - Announces loaded content to screen readers, and moves focus into it after the
//   visitor's own consent click.
"use strict";

(function () {
  const root = document.documentElement;
  const script = document.currentScript;
  // embed.js names the frames whose height follows their content (not Vimeo's 16:9).
  const FIT_NAME = "embedguard-fit-height";
  const PARENT_KEY = "embedguard-parent";
  const THROTTLE_MS = 100;

  function sourceMatches(source, url) {
    if (source === "self") {
      return url.origin === location.origin;
    }
    // A CSP host-source: [scheme://][*.]host[:port]
    const parts = /^(?:(https?):\/\/)?(\*\.)?([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(source);
    if (!parts) {
      return false;
    }
    const [, scheme, wildcard, host, port] = parts;
    const actual = url.protocol.slice(0, -1);
    const schemeOk = scheme
      ? actual === scheme || (scheme === "http" && actual === "https")
      : actual === "https" || actual === location.protocol.slice(0, -1);
    const hostOk = wildcard ? url.hostname.endsWith("." + host) : url.hostname === host;
    const defaultPort = actual === "https" ? "443" : "80";
    const portOk = port ? (url.port || defaultPort) === port : url.port === "";
    return schemeOk && hostOk && portOk;
  }

  function isAllowedParent(origin) {
    let url;
    try {
      url = new URL(origin);
    } catch (error) {
      return false; // also "null", the origin of sandboxed or opaque parents
    }
    const listed = script ? script.dataset.egParents || "" : "";
    const sources = listed.split(/\s+/).filter(Boolean);
    return sources.some((source) => sourceMatches(source, url));
  }

  function referrerOrigin() {
    try {
      return new URL(document.referrer).origin;
    } catch (error) {
      return "";
    }
  }

  function parentOrigin() {
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length) {
      return ancestors[0];
    }
    // Without ancestorOrigins the first page's referrer names the parent; after the consent
    // click the referrer is our own placeholder, so the first answer is kept for the tab.
    let origin = referrerOrigin();
    try {
      if (origin && origin !== location.origin) {
        sessionStorage.setItem(PARENT_KEY, origin);
      } else {
        origin = sessionStorage.getItem(PARENT_KEY) || origin;
      }
    } catch (error) {
      // storage blocked: the referrer is all there is
    }
    return origin;
  }

  function fitToContent() {
    // The pages fill the viewport (min-height: 100vh); in a frame that grows with its
    // content, that would let the frame grow but never shrink.
    document.body.style.minHeight = "0";
    const main = document.querySelector("body > main");
    if (main) {
      main.style.minHeight = "0";
    }
  }

  function reportSize(origin) {
    let last = -1;
    let timer = 0;
    function report() {
      timer = 0;
      const height = Math.ceil(root.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: "embedguard:size", height: height }, origin);
      }
    }
    new ResizeObserver(() => {
      if (!timer) {
        timer = setTimeout(report, THROTTLE_MS);
      }
    }).observe(root);
  }

  function announceLoaded() {
    const status = document.querySelector("[data-eg-status]");
    if (status) {
      // A live region announces changes, not what it held at load: fill it a moment later.
      setTimeout(() => {
        status.textContent = status.dataset.egStatus;
      }, 300);
    }
  }

  function reachedByConsentClick() {
    const navigation = performance.getEntriesByType("navigation")[0];
    if (navigation && navigation.type !== "navigate") {
      return false; // a reload or history step is not a fresh click
    }
    if (location.pathname === "/consent") {
      return true; // "load once" answers the click's POST with this page itself
    }
    // "Always" redirects without a token: the click came from this page's placeholder.
    try {
      const from = new URL(document.referrer);
      return from.origin === location.origin && from.pathname === location.pathname;
    } catch (error) {
      return false;
    }
  }

  function focusContent() {
    const main = document.querySelector("main");
    if (!main) {
      return;
    }
    function tryFocus() {
      const frame = main.querySelector("iframe");
      const idle = !document.activeElement || document.activeElement === document.body;
      if (frame && idle) {
        frame.focus();
      }
      return Boolean(frame);
    }
    if (tryFocus()) {
      return;
    }
    // X's widget script puts its iframe in later.
    const observer = new MutationObserver(() => {
      if (tryFocus()) {
        observer.disconnect();
      }
    });
    observer.observe(main, { childList: true, subtree: true });
    setTimeout(() => observer.disconnect(), 10000);
  }

  if (window.parent !== window && "ResizeObserver" in window) {
    const origin = parentOrigin();
    if (isAllowedParent(origin)) {
      if (window.name === FIT_NAME) {
        fitToContent();
      }
      reportSize(origin);
    }
  }
  if (document.querySelector("[data-eg-status]")) {
    announceLoaded();
    if (reachedByConsentClick()) {
      focusContent();
    }
  }
})();
