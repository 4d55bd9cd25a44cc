// Loaded pages and the "not available" tile; a framed placeholder loads placeholder.js
// instead. Everything here is an enhancement; without it the page works the same, and other
// frames catch up on the next page view.
// - A revoke reaches the other loaded embedguard frames of the same provider on the page, and
//   "always" chosen here loads its placeholders (BroadcastChannel: same-origin frames under
//   the same host page share it; placeholder.js speaks the same messages).
// - Tells the framing page (embed.js) that an embed is not available, but only when that
//   page's origin may frame us (data-eg-parents on this script's element), and only it.
// - Announces loaded content to screen readers, moves focus into it after the visitor's
//   own consent click, and shows our own message when the provider does not answer.
"use strict";

(function () {
  const script = document.currentScript;
  const CHANNEL = "embedguard";
  const ANNOUNCE_KEY = "embedguard-announce";
  const UNREACHABLE_MS = 8000;
  const AUTO_PARAMETER = "eg-auto";

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
    return listed.split(/\s+/).filter(Boolean).some((source) => sourceMatches(source, url));
  }

  function parentOrigin() {
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length) {
      return ancestors[0];
    }
    try {
      return new URL(document.referrer).origin;
    } catch (error) {
      return "";
    }
  }

  // ---- one page, many frames: "always" and revoke reach them all ----

  // The page's revoke control: present while "always" consent loaded it.
  function revokeForm() {
    const revoke = document.querySelector("form[action='/consent/revoke'] input[name=provider]");
    return revoke ? { provider: revoke.value, form: revoke.form } : null;
  }

  function remember(message) {
    try {
      sessionStorage.setItem(ANNOUNCE_KEY, JSON.stringify(message));
    } catch (error) {
      // storage blocked: the other frames catch up on the next page view
    }
  }

  function takeRemembered(provider, state) {
    try {
      const message = JSON.parse(sessionStorage.getItem(ANNOUNCE_KEY) || "null");
      if (message && message.provider === provider && message.state === state) {
        sessionStorage.removeItem(ANNOUNCE_KEY);
        return true;
      }
    } catch (error) {
      // nothing remembered
    }
    return false;
  }

  function connect(page) {
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event) => {
      const data = event.data || {};
      if (data.provider === page.provider && data.state === "revoked") {
        channel.close();
        // Marked, so the page it becomes knows no click of this visitor led to it.
        const url = new URL(location.href);
        url.hash = "";
        url.searchParams.set(AUTO_PARAMETER, "1");
        location.replace(url.href);
      }
    };
    // The placeholder this revoke leads to tells the others (placeholder.js).
    page.form.addEventListener("submit", () => {
      remember({ provider: page.provider, state: "revoked" });
    });
    // The page this visitor's "always" led to tells the others.
    if (takeRemembered(page.provider, "always") || reachedByConsentClick()) {
      channel.postMessage({ provider: page.provider, state: "always" });
    }
  }

  // ---- loaded pages ----

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
    const query = new URLSearchParams(location.search);
    if ((navigation && navigation.type !== "navigate") || query.has(AUTO_PARAMETER)) {
      return false; // a reload, a history step or another frame's choice is not a click here
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

  function whenContentAppears(main, found) {
    const frame = main.querySelector("iframe");
    if (frame) {
      found(frame);
      return;
    }
    // X's widget script puts its iframe in later.
    const observer = new MutationObserver(() => {
      const late = main.querySelector("iframe");
      if (late) {
        observer.disconnect();
        found(late);
      }
    });
    observer.observe(main, { childList: true, subtree: true });
    setTimeout(() => observer.disconnect(), UNREACHABLE_MS);
  }

  function focusContent(frame) {
    const idle = !document.activeElement || document.activeElement === document.body;
    if (idle) {
      frame.focus();
    }
  }

  function loadedAlready(frame) {
    return performance
      .getEntriesByType("resource")
      .some((entry) => entry.name === frame.src && entry.responseEnd > 0);
  }

  function watchProvider(main) {
    const note = document.querySelector("[data-eg-unreachable]");
    if (!note) {
      return;
    }
    let loaded = false;
    let content = null;
    whenContentAppears(main, (frame) => {
      content = frame;
      frame.addEventListener("load", () => {
        loaded = true;
      });
    });
    setTimeout(() => {
      if (!loaded && !(content && loadedAlready(content))) {
        note.classList.add("on");
      }
    }, UNREACHABLE_MS);
  }

  const page = revokeForm();
  if (page && "BroadcastChannel" in window) {
    connect(page);
  }
  if (window.parent !== window && document.querySelector("[data-eg-unavailable]")) {
    const origin = parentOrigin();
    if (isAllowedParent(origin)) {
      window.parent.postMessage({ type: "embedguard:unavailable" }, origin);
    }
  }
  const main = document.querySelector("main");
  if (main && document.querySelector("[data-eg-status]")) {
    announceLoaded();
    watchProvider(main);
    if (reachedByConsentClick()) {
      whenContentAppears(main, focusContent);
    }
  }
})();
