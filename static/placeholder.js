// A framed placeholder's only script, kept small: it is part of what every visitor downloads
// before deciding. "Always" chosen in another embedguard frame of the same host page loads
// this one too, and a revoke made here reaches the loaded frames (frame.js, which speaks the
// same messages on the same channel). Without it the page works the same; the other frames
// catch up on the next page view.
"use strict";

(function () {
  const choice = document.querySelector("form[action='/consent'] input[name=provider]");
  if (!choice || !("BroadcastChannel" in window)) {
    return;
  }
  const provider = choice.value;
  const channel = new BroadcastChannel("embedguard");
  const KEY = "embedguard-announce";
  channel.onmessage = (event) => {
    const data = event.data || {};
    if (data.provider === provider && data.state === "always") {
      channel.close();
      // Marked, so the page it becomes knows no click of this visitor led to it.
      const url = new URL(location.href);
      url.hash = "";
      url.searchParams.set("eg-auto", "1");
      location.replace(url.href);
    }
  };
  try {
    // The loaded page this visitor's "always" leads to tells the others (frame.js).
    choice.form.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.value === "always") {
        sessionStorage.setItem(KEY, JSON.stringify({ provider: provider, state: "always" }));
      }
    });
    // A revoke on a loaded page led here: tell the other loaded frames.
    const told = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (told && told.provider === provider && told.state === "revoked") {
      sessionStorage.removeItem(KEY);
      channel.postMessage(told);
    }
  } catch (error) {
    // storage blocked: the other frames catch up on the next page view
  }
})();
