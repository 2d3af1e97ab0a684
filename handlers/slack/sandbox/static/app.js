// The sandbox page: shows what Slack would show each person, and sends their actions to the sandbox,
// which turns them into signed Slack requests to the real bot. The HTML of messages, the Home tab and
// modals is made on the server (handlers/slack/sandbox/views.py); this only places it and wires clicks.
"use strict";

const state = { me: null, view: null, conversations: [], unread: new Set(), pending: null, typing: 0 };
// What the browser test reads: the first load, and Enter to a rendered answer, in milliseconds.
window.sandboxTimings = { firstLoad: null, answers: [] };
const started = performance.now();

const $ = (id) => document.getElementById(id);

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: state.me, ...body }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) toast(answer.error || `That didn't work (${response.status}).`);
  return answer;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function navButton(id, label, kind) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "nav";
  button.dataset.view = id;
  button.dataset.kind = kind;
  button.textContent = label;
  return button;
}

async function loadState() {
  const query = state.me ? `?as=${encodeURIComponent(state.me)}` : "";
  const data = await getJSON(`/sandbox/state${query}`);
  state.me = data.me;
  state.conversations = data.conversations;
  $("clock").textContent = data.clock.label;
  $("clock").dataset.iso = data.clock.iso;
  const select = $("person");
  select.replaceChildren(...data.people.map((person) => {
    const option = document.createElement("option");
    option.value = person.id;
    option.textContent = `${person.name}, ${person.manager ? "manager" : "technician"} (${person.tz.split("/").pop().replace("_", " ")})`;
    option.selected = person.id === data.me;
    return option;
  }));
  $("dms").replaceChildren(...data.conversations.filter((c) => c.kind === "dm").map((c) => navButton(c.id, `💬 ${c.name}`, c.kind)));
  $("channels").replaceChildren(...data.conversations.filter((c) => c.kind === "channel").map((c) => navButton(c.id, c.name, c.kind)));
  markNav();
}

function markNav() {
  for (const button of document.querySelectorAll(".nav")) {
    button.classList.toggle("active", button.dataset.view === state.view);
    button.classList.toggle("unread", state.unread.has(button.dataset.view));
  }
}

async function show(view) {
  state.view = view;
  state.unread.delete(view);
  markNav();
  const composer = $("composer");
  if (view === "home") {
    $("title").textContent = "Nudgebot · Home";
    composer.hidden = true;
    $("pane").innerHTML = '<div class="empty">Opening your Home…</div>';
    await post("/sandbox/act", { kind: "home" });
    await renderHome();
  } else {
    const conversation = state.conversations.find((c) => c.id === view);
    $("title").textContent = conversation ? conversation.name : view;
    composer.hidden = false;
    await renderConversation(true);
  }
}

// One conversation render at a time; a change that arrives meanwhile asks for one more afterwards.
let rendering = null;
let renderAgain = false;
let wantBottom = false;

async function renderConversation(toBottom = false) {
  wantBottom = wantBottom || toBottom;
  if (rendering) {
    renderAgain = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      renderAgain = false;
      const bottom = wantBottom;
      wantBottom = false;
      await renderConversationOnce(bottom);
    } while (renderAgain);
  })();
  try {
    await rendering;
  } finally {
    rendering = null;
  }
}

async function renderConversationOnce(toBottom) {
  if (!state.view || state.view === "home") return;
  const view = state.view;
  const data = await getJSON(`/sandbox/conversation/${encodeURIComponent(view)}?as=${encodeURIComponent(state.me)}`);
  if (view !== state.view) return;
  const pane = $("pane");
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  patchMessages(pane, data.messages);
  if (toBottom || atBottom || state.pending) {
    pane.scrollTop = pane.scrollHeight;
    // Pictures (the digest's chart) grow the pane as they load: stay at the bottom.
    for (const picture of pane.querySelectorAll("img")) {
      if (!picture.complete) picture.addEventListener("load", () => { pane.scrollTop = pane.scrollHeight; }, { once: true });
    }
  }
  if (state.pending && pane.querySelectorAll(".msg").length > state.pending.count) {
    window.sandboxTimings.answers.push(performance.now() - state.pending.at);
    state.pending = null;
  }
}

// Replace only the messages whose HTML changed, add the new ones, drop the gone: a long conversation
// costs the browser what changed, not the whole history, on every update.
function patchMessages(pane, messages) {
  if (!messages.length) {
    pane.innerHTML = '<div class="empty">Nothing here yet.</div>';
    return;
  }
  const wanted = new Set(messages.map(([id]) => id));
  const shown = new Map();
  for (const child of [...pane.children]) {
    if (child.dataset.messageId && wanted.has(child.dataset.messageId)) shown.set(child.dataset.messageId, child);
    else child.remove();
  }
  messages.forEach(([id, html], index) => {
    let node = shown.get(id);
    if (!node || node.sandboxHtml !== html) {
      const holder = document.createElement("template");
      holder.innerHTML = html;
      const fresh = holder.content.firstElementChild;
      fresh.sandboxHtml = html;
      if (node) node.remove();
      node = fresh;
    }
    const here = pane.children[index] || null;
    if (here !== node) pane.insertBefore(node, here);
  });
}

async function renderHome() {
  if (state.view !== "home") return;
  const data = await getJSON(`/sandbox/home?as=${encodeURIComponent(state.me)}`);
  $("pane").innerHTML = data.html;
}

async function renderModal() {
  const data = await getJSON(`/sandbox/modal?as=${encodeURIComponent(state.me)}`);
  const overlay = $("overlay");
  if (!data.html) {
    overlay.hidden = true;
    $("dialog").replaceChildren();
    return;
  }
  $("dialog").innerHTML = data.html;
  overlay.hidden = false;
  const first = $("dialog").querySelector("input, textarea");
  if (first && !$("dialog").contains(document.activeElement)) first.focus();
}

function actionOf(button) {
  return {
    action_id: button.dataset.actionId || "",
    value: button.dataset.value || "",
    block_id: button.dataset.blockId || "",
    text: button.textContent.trim(),
  };
}

document.addEventListener("click", async (event) => {
  const nav = event.target.closest(".nav");
  if (nav) {
    await show(nav.dataset.view);
    return;
  }
  const step = event.target.closest(".clock-step");
  if (step) {
    await moveClock(step.dataset.to);
    return;
  }
  const close = event.target.closest(".bk-close");
  if (close) {
    await post("/sandbox/act", { kind: "close" });
    return;
  }
  const button = event.target.closest("button.bk-button, a.bk-button");
  if (!button || button.classList.contains("bk-submit")) return;
  const action = actionOf(button);
  const message = button.closest(".msg");
  const home = button.closest(".bk-home");
  const modal = button.closest(".bk-modal");
  // Disabled while the press is on its way (a second click would be a second press), as Slack shows.
  if (button.tagName === "BUTTON") button.disabled = true;
  try {
    if (message) {
      await post("/sandbox/act", { kind: "press", surface: "message", message: message.dataset.messageId, action });
    } else if (home) {
      await post("/sandbox/act", { kind: "press", surface: "home", action: { ...action, view_id: home.dataset.viewId || "" } });
    } else if (modal) {
      await post("/sandbox/act", { kind: "press", surface: "modal", action: { ...action, view_id: modal.dataset.viewId || "" } });
    }
  } finally {
    button.disabled = false;
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.id === "composer") {
    event.preventDefault();
    await sendMessage();
  } else if (form.id === "clock-to") {
    event.preventDefault();
    const at = $("clock-at").value;
    if (at) await moveClock(at);
  } else if (form.classList.contains("bk-modal")) {
    event.preventDefault();
    const values = {};
    for (const block of form.querySelectorAll(".bk-input[data-block-id]")) {
      const id = block.dataset.blockId;
      const boxes = block.querySelectorAll('input[type="checkbox"]');
      const radios = block.querySelectorAll('input[type="radio"]');
      if (boxes.length) {
        values[id] = [...boxes].filter((box) => box.checked).map((box) => box.value);
      } else if (radios.length) {
        const picked = [...radios].find((radio) => radio.checked);
        values[id] = picked ? picked.value : "";
      } else {
        const field = block.querySelector("input, textarea");
        values[id] = field ? field.value : "";
      }
    }
    await post("/sandbox/act", { kind: "submit", values });
  }
});

document.addEventListener("keydown", async (event) => {
  if (event.key === "Escape" && !$("overlay").hidden) {
    event.preventDefault();
    await post("/sandbox/act", { kind: "close" });
  }
});

$("message").addEventListener("keydown", async (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    await sendMessage();
  }
});

async function sendMessage() {
  const box = $("message");
  const text = box.value.trim();
  if (!text || state.view === "home") return;
  box.value = "";
  state.pending = { at: performance.now(), count: $("pane").querySelectorAll(".msg").length + 1 };
  // The answer to a command is in by the time the sandbox answers this post: render once, then.
  state.typing += 1;
  try {
    await post("/sandbox/act", { kind: "command", channel: state.view, text });
  } finally {
    state.typing -= 1;
  }
  await renderConversation();
}

function jobsRan(sent) {
  if (!sent) return "Jobs ran: nothing was due.";
  return `Jobs ran: ${sent} ${sent === 1 ? "message" : "messages"} sent.`;
}

async function moveClock(to) {
  for (const button of document.querySelectorAll(".clock-step")) button.disabled = true;
  try {
    const answer = await post("/sandbox/clock", { to });
    if (answer.ok) toast(jobsRan(answer.sent));
    await loadState();
  } finally {
    for (const button of document.querySelectorAll(".clock-step")) button.disabled = false;
  }
}

$("person").addEventListener("change", async (event) => {
  state.me = event.target.value;
  state.unread.clear();
  await loadState();
  await renderModal();
  await show(state.conversations[0].id);
});

$("demo").addEventListener("click", async (event) => {
  event.target.disabled = true;
  toast("Loading three weeks of a small IT company…");
  const answer = await post("/sandbox/demo", {});
  if (answer.ok) toast(answer.said);
  event.target.disabled = false;
  await loadState();
  await show(state.view);
});

function listen() {
  const events = new EventSource("/sandbox/events");
  events.onmessage = async (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "conversation") {
      if (event.id === state.view && state.typing) return;
      if (event.id === state.view) await renderConversation();
      else if (state.conversations.some((c) => c.id === event.id)) {
        state.unread.add(event.id);
        markNav();
      }
    } else if (event.type === "home" && event.user === state.me) {
      await renderHome();
    } else if (event.type === "modal" && event.user === state.me) {
      await renderModal();
    } else if (event.type === "clock") {
      await loadState();
    }
  };
}

(async function start() {
  await loadState();
  await show(state.conversations[0].id);
  await renderModal();
  listen();
  window.sandboxTimings.firstLoad = performance.now() - started;
  document.body.dataset.ready = "yes";
})();
