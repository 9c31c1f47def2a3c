// fullstack demo frontend: lists items and adds one through the /api/ proxy.
// Text is only ever inserted with textContent, never as HTML.
"use strict";

/**
 * Call the API and return the decoded JSON body.
 * Throws an Error with the API's message when the status is not 2xx.
 */
async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Accept: "application/json", ...options.headers },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // The body was not JSON; fall back to the status text below.
  }
  if (!response.ok) {
    const detail = body && body.error ? body.error : response.statusText;
    throw new Error(`${detail} (HTTP ${response.status})`);
  }
  return body;
}

/** Render the list of items, newest first as the API returns them. */
function renderItems(items) {
  const list = document.getElementById("items");
  const status = document.getElementById("items-status");
  list.replaceChildren(
    ...items.map((item) => {
      const entry = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = item.name;
      const created = document.createElement("time");
      created.dateTime = item.created_at;
      created.textContent = new Date(item.created_at).toLocaleString();
      entry.append(name, " ", created);
      return entry;
    }),
  );
  status.textContent = items.length ? `${items.length} item(s)` : "No items yet.";
}

/** Fetch and show the items, or show why they could not be loaded. */
async function loadItems() {
  const status = document.getElementById("items-status");
  try {
    renderItems(await api("/api/items"));
  } catch (error) {
    status.textContent = `Could not load items: ${error.message}`;
  }
}

/** Show the backend's title and version. */
async function loadInfo() {
  try {
    const info = await api("/api/");
    document.getElementById("title").textContent = info.title;
    document.getElementById("backend-info").textContent =
      `Backend ${info.service} ${info.version}`;
  } catch (error) {
    document.getElementById("backend-info").textContent =
      `Backend unreachable: ${error.message}`;
  }
}

/** Submit the form as POST /api/items, then refresh the list. */
async function addItem(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const input = document.getElementById("name");
  const error = document.getElementById("form-error");
  const button = form.querySelector("button");
  error.textContent = "";
  button.disabled = true;
  try {
    await api("/api/items", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: input.value }),
    });
    form.reset();
    await loadItems();
  } catch (failure) {
    error.textContent = `Could not add the item: ${failure.message}`;
  } finally {
    button.disabled = false;
    input.focus();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("add-form").addEventListener("submit", addItem);
  loadInfo();
  loadItems();
});
