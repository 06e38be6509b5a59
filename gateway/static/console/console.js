// Crossdock console: one page over /graphql (and /views for downloads) with the user's token.
//
// The idea: the console has no access of its own. At sign-in it reads the schema the token's
// role may see (the gateway's introspection is per role) and every query is built from that
// schema: a field the role may not read is never asked for, so nothing denied reaches the
// screen, and a page whose root field is hidden is not offered at all. The token lives in the
// tab's sessionStorage (never in a URL); everything is rendered with DOM APIs and textContent.

const GRAPHQL = "/graphql";
const VIEWS = "/views";
const DEMO_TOKENS = "/console/demo-tokens";
const TOKEN_KEY = "crossdock.console.token";
const PAGE_SIZE = 50;

// One map from every status the graph has to the tone of its badge (console.css: .badge--TONE).
export const STATUS_TONES = {
  CREATED: "info", PENDING_APPROVAL: "warn", APPROVED: "ok", DELIVERED: "ok", CANCELLED: "muted",
  DRAFT: "muted", BOOKED: "info", IN_TRANSIT: "info", EXCEPTION: "bad",
  UNFULFILLED: "muted", RESERVED: "info", PARTIALLY_SHIPPED: "info", SHIPPED: "ok",
  RUNNING: "info", REJECTED: "bad", COMPENSATING: "warn", FAILED: "bad", NEEDS_ATTENTION: "bad",
  ERROR: "bad", WARNING: "warn", INFO: "info", PASSED: "ok", FAILED_RULE: "bad", SHORT: "bad", BELOW_REORDER: "warn",
  DEAD: "bad", RETRY: "warn", LAGGING: "warn", IN_SYNC: "ok",
  APPLIED: "ok", PLANNED: "info", GONE: "muted", NOT_FIXABLE: "warn",
  done: "ok", started: "info", failed: "bad", compensated: "muted",
};

const session = { token: null, viewer: null, types: new Map(), query: new Set(), mutation: new Set(), streams: new Set() };

// ---------------------------------------------------------------- DOM helpers (text nodes only)

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

function badge(status, label) {
  const text = label ?? String(status ?? "").replaceAll("_", " ").toLowerCase();
  const tone = STATUS_TONES[status] ?? "muted";
  return h("span", { class: `badge badge--${tone}`, "data-status": status }, text);
}

function emptyState(text) {
  return h("p", { class: "empty", role: "status" }, text);
}

function errorState(text, retry) {
  return h("div", { class: "error", role: "alert" }, h("strong", {}, "Could not load this. "), text,
    retry ? [" ", button("Try again", retry)] : null);
}

function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, text);
}

function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

// A table of `rows`; each column is {label, cell(row) → node|text, numeric}; absent columns
// (undefined) are dropped, so a column of a field the role cannot see is simply not there.
function table(caption, columns, rows, { empty = "Nothing to show.", rowClass } = {}) {
  if (!rows || rows.length === 0) return emptyState(empty);
  const cols = columns.filter(Boolean);
  const head = h("tr", {}, cols.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)));
  const body = rows.map((row) =>
    h("tr", { class: rowClass ? rowClass(row) : null },
      cols.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row) ?? "—"))));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {}, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body)));
}

// Key–value pairs; pairs whose value is undefined (a field the role cannot see) are left out.
function facts(pairs) {
  const shown = pairs.filter(([, value]) => value !== undefined);
  return h("dl", { class: "facts" }, shown.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function money(m) {
  return m ? `${m.amount} ${m.currency}` : m;
}

function when(iso) {
  if (!iso) return iso;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function address(a) {
  if (!a) return a;
  return [a.street, [a.postalCode, a.city].filter(Boolean).join(" "), a.region, a.country].filter(Boolean).join(", ");
}

function safeLink(url, text) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "https:" || parsed.protocol === "http:") {
      return h("a", { href: parsed.href, rel: "noopener noreferrer", target: "_blank" }, text);
    }
  } catch {
    // not a URL: shown as text
  }
  return text;
}

function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, label);
}

// ---------------------------------------------------------------- the gateway

class ConsoleError extends Error {}

async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(GRAPHQL, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: `Bearer ${session.token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ConsoleError("The gateway did not answer. Check that it is running, then try again.");
  }
  if (response.status === 401) {
    const reason = describeErrors((await response.json().catch(() => ({}))).errors) || "HTTP 401.";
    if (session.viewer) signOut(`Signed out: the gateway no longer accepts the token (${reason}) Sign in again.`);
    throw new ConsoleError(`The gateway refused the token: ${reason}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ConsoleError(`The gateway answered ${response.status} without a GraphQL body. Try again.`);
  }
  if (!body.data) throw new ConsoleError(describeErrors(body.errors) || `HTTP ${response.status}`);
  // [policy] mode = "null": a denied field comes back null with a FORBIDDEN error; it is simply
  // not shown (in the default "hide" mode the console never asks for one)
  const errors = (body.errors ?? []).filter((e) => e.extensions?.code !== "FORBIDDEN");
  return { data: body.data, errors };
}

function describeErrors(errors) {
  return (errors ?? []).map((e) => e.message).join(" ");
}

// Partial answers (a backend failed for part of the page) are shown with a notice naming it.
function partialNotice(errors) {
  if (!errors || errors.length === 0) return null;
  return h("p", { class: "notice", role: "status" }, `Part of this page could not be read: ${describeErrors(errors)}`);
}

// ---------------------------------------------------------------- live updates (subscriptions)

// One subscription over GraphQL-over-SSE (a POST with the token in its header, read as a
// stream); `onData` gets each event's data. Streams end when the page changes or on sign-out.
// `indicator` says whether the page is live. Without the Subscription field, nothing happens.
function live(field, query, variables, onData, indicator) {
  if (!can("Subscription", field)) return;
  const controller = new AbortController();
  session.streams.add(controller);
  const follow = async () => {
    const response = await fetch(GRAPHQL, {
      method: "POST",
      signal: controller.signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", Authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ query, variables }),
    });
    if (!response.ok || !response.body) return;
    replace(indicator, "Live: this page updates when the CRM or the ERP reports a change.");
    indicator.dataset.live = "on";
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll("\r\n", "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const kind = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (kind === "complete") return;
        if (kind === "next" && data) {
          const body = JSON.parse(data);
          if (body.data) onData(body.data);
        }
      }
    }
  };
  follow().catch(() => null).finally(() => {  // aborted or dropped: the page keeps what it shows
    session.streams.delete(controller);
    if (!controller.signal.aborted) {
      replace(indicator, "Not live: the update stream ended; reopen the page to follow changes.");
      indicator.dataset.live = "off";
    }
  });
}

function stopLive() {
  for (const controller of session.streams) controller.abort();
  session.streams.clear();
}

// `run` at most once at a time; a call while it runs schedules one more run after it.
function serialized(run) {
  let running = null;
  let again = false;
  const go = async () => {
    if (running) {
      again = true;
      return;
    }
    running = run().catch(() => null);
    await running;
    running = null;
    if (again) {
      again = false;
      await go();
    }
  };
  return go;
}

function liveIndicator() {
  return h("p", { class: "hint live", role: "status", "aria-live": "polite", "data-live": "off" });
}

function updatedNow(indicator, what) {
  const at = new Date().toISOString().slice(11, 19);
  replace(indicator, `Live: updated at ${at} UTC after ${what}.`);
}

// The selection of `spec` on `type`, keeping only the fields this role can see. A spec entry is
// a field name, or {f, type, sel, args} for a field with a selection of its own.
function pick(type, spec) {
  const visible = session.types.get(type);
  if (!visible) return "";
  const parts = [];
  for (const entry of spec) {
    const name = typeof entry === "string" ? entry : entry.f;
    if (!visible.has(name)) continue;
    if (typeof entry === "string") {
      parts.push(name);
      continue;
    }
    const inner = pick(entry.type, entry.sel);
    if (inner) parts.push(`${name}${entry.args ?? ""} { ${inner} }`);
  }
  return parts.join(" ");
}

function can(type, field) {
  return session.types.get(type)?.has(field) ?? false;
}

const MONEY = ["amount", "currency"];
const ADDRESS = ["street", "city", "region", "postalCode", "country"];
const STOCK = ["onHand", "reserved", "available", "projected", "reorderLevel", "reorderQuantity", "belowReorderLevel",
  { f: "warehouse", type: "Warehouse", sel: ["id", "name"] }];
const PRODUCT = ["sku", "name", "uom", "available", { f: "stock", type: "StockLevel", sel: STOCK }];
const CUSTOMER = ["id", "number", "name", "industry", "email", "phone",
  { f: "shippingAddress", type: "Address", sel: ADDRESS }, { f: "creditLimit", type: "Money", sel: MONEY }];
const SHIPMENT = ["id", "carrier", "service", "status", "trackingNumber", "trackingUrl", "pickupDate", "orderNumber",
  { f: "destination", type: "Address", sel: ADDRESS }, { f: "value", type: "Money", sel: MONEY },
  { f: "lines", type: "ShipmentLine", sel: ["sku", "quantity"] }];
const LINE = ["sku", "quantity", { f: "product", type: "Product", sel: PRODUCT },
  { f: "unitPrice", type: "Money", sel: MONEY }, { f: "total", type: "Money", sel: MONEY }];
const ORDER = ["id", "number", "status", "placedAt", "fulfillment", { f: "customer", type: "Customer", sel: CUSTOMER },
  { f: "lines", type: "OrderLine", sel: LINE }, { f: "shipments", type: "Shipment", sel: SHIPMENT },
  { f: "subtotal", type: "Money", sel: MONEY }, { f: "tax", type: "Money", sel: MONEY }, { f: "total", type: "Money", sel: MONEY }];
const ORDER_ROW = ["id", "number", "status", "placedAt", "fulfillment", { f: "customer", type: "Customer", sel: ["name"] },
  { f: "total", type: "Money", sel: MONEY }];
const APPROVAL = ["decision", { f: "reasons", type: "ApprovalReason", sel: ["rule", "passed", "message"] }];
const PROCESS_ERROR = ["code", "step", "message"];
const PROCESS = ["id", "status", "createdAt", "updatedAt", "erpOrder", { f: "approval", type: "Approval", sel: APPROVAL },
  { f: "error", type: "ProcessError", sel: PROCESS_ERROR }, { f: "attention", type: "ProcessError", sel: PROCESS_ERROR },
  { f: "steps", type: "OrderProcessStep", sel: ["step", "state", "at", "message"] }];
const RESULT = ["processId", "status", { f: "order", type: "Order", sel: ["number", "status", "fulfillment"] },
  { f: "approval", type: "Approval", sel: APPROVAL },
  { f: "reservations", type: "Reservation", sel: ["sku", "warehouse", "quantity", "reserved"] },
  { f: "error", type: "ProcessError", sel: PROCESS_ERROR }];

// ---------------------------------------------------------------- sign-in

const SCHEMA_QUERY = `{ viewer { subject roles scopes partnerId }
  __schema { queryType { name } mutationType { name } types { name kind fields { name } } } }`;

async function signIn(token) {
  session.token = token.trim().replace(/^Bearer\s+/i, "");
  const { data } = await gql(SCHEMA_QUERY);
  const schema = data.__schema;
  session.viewer = data.viewer;
  session.types = new Map(schema.types.filter((t) => t.fields).map((t) => [t.name, new Set(t.fields.map((f) => f.name))]));
  session.query = session.types.get(schema.queryType.name) ?? new Set();
  session.mutation = schema.mutationType ? session.types.get(schema.mutationType.name) ?? new Set() : new Set();
  sessionStorage.setItem(TOKEN_KEY, session.token);
}

function signOut(message) {
  stopLive();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(session, { token: null, viewer: null, types: new Map(), query: new Set(), mutation: new Set() });
  renderFrame();
  renderSignIn(message);
}

async function renderSignIn(message) {
  const main = document.getElementById("main");
  const field = h("textarea", { id: "token", name: "token", rows: "3", autocomplete: "off", spellcheck: "false", required: true });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" }, message ?? "");
  const attempt = async (token) => {
    replace(status, "Signing in…");
    try {
      await signIn(token);
      const target = location.hash && location.hash !== "#/" ? location.hash : `#/${firstPage().path}`;
      if (target === location.hash) await route();
      else location.hash = target;  // the hashchange event routes
    } catch (error) {
      replace(status, h("span", { class: "error-text" }, error.message));
    }
  };
  const form = h("form", { class: "form", onsubmit: (e) => { e.preventDefault(); attempt(field.value); } },
    h("label", { for: "token" }, "Bearer token"), field,
    h("p", { class: "hint" }, "Paste a token (with or without “Bearer ”). It is kept for this tab only and sent only to this gateway."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")), status);
  const picker = h("div", { id: "demo-roles" });
  replace(main, section("Sign in", form, picker));
  main.focus();
  const roles = await demoRoles();
  if (roles.length === 0) return;
  replace(picker, h("h3", {}, "Demo: sign in as a role"),
    h("p", { class: "hint" }, "This gateway runs the demo: its tokens are offered here."),
    h("div", { class: "actions" }, roles.map((r) =>
      button(r.partnerId ? `${r.role} (${r.partnerId})` : r.role, () => attempt(r.token),
        { "data-role": r.role, "aria-label": `Sign in as ${r.role}${r.partnerId ? ` (partner ${r.partnerId})` : ""}` }))));
}

async function demoRoles() {
  try {
    const response = await fetch(DEMO_TOKENS, { headers: { Accept: "application/json" } });
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body.roles) ? body.roles : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- the frame and the router

const PAGES = [
  { path: "orders", title: "Order 360", available: () => session.query.has("orders") && session.query.has("order"), render: renderOrders },
  { path: "approvals", title: "Approvals", available: () => session.query.has("orders") && session.query.has("orderProcess"), render: approvalsPage },
  { path: "shipments", title: "Shipments", available: () => session.query.has("shipments"), render: renderShipments },
  { path: "stock", title: "Stock", available: () => session.query.has("products") && can("Product", "stock"), render: renderStock },
  { path: "exports", title: "Exports", available: () => true, render: renderExports },
  { path: "sync", title: "Sync", available: () => session.query.has("syncStatus"), render: renderSync },
  { path: "reconciliation", title: "Reconciliation", available: () => session.query.has("reconciliation"), render: renderReconciliation },
];

function firstPage() {
  return PAGES.find((p) => p.available());
}

function renderFrame() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!session.token) {
    replace(nav);
    replace(who);
    return;
  }
  const current = location.hash.split("/")[1];
  replace(nav, h("ul", {}, PAGES.filter((p) => p.available()).map((p) =>
    h("li", {}, h("a", { href: `#/${p.path}`, "aria-current": p.path === current ? "page" : null }, p.title)))));
  const v = session.viewer;
  const partner = v.partnerId ? `, partner ${v.partnerId}` : "";
  replace(who, h("span", { id: "signed-in" }, `Signed in as ${v.subject} (${v.roles.join(", ")}${partner})`), " ",
    button("Sign out", () => signOut("Signed out."), { class: "link" }));
}

async function route() {
  if (!session.token) return;
  stopLive();
  const [, path, ...rest] = location.hash.split("/");
  const page = PAGES.find((p) => p.path === path && p.available()) ?? firstPage();
  const refused = path && page.path !== path
    ? h("p", { class: "notice", role: "status" }, `“${path}” is not a page your role may open; here is ${page.title}.`) : null;
  if (page.path !== path) history.replaceState(null, "", `#/${page.path}`);
  renderFrame();
  const main = document.getElementById("main");
  const view = h("div", { class: "page" });
  replace(main, refused, h("h1", {}, page.title), view);
  document.title = `${page.title} · Crossdock console`;
  main.focus();
  try {
    await page.render(view, rest.map(decodeURIComponent));
  } catch (error) {
    replace(view, errorState(error.message, () => route()));
  }
}

// ---------------------------------------------------------------- Order 360

async function renderOrders(view, [number]) {
  const input = h("input", { id: "order-search", type: "search", name: "q", value: number ?? "", autocomplete: "off" });
  const results = h("div", { id: "order-results" });
  const search = h("form", { class: "form form--inline", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (/^SO-/i.test(q)) location.hash = `#/orders/${encodeURIComponent(q.toUpperCase())}`;
    else searchCustomers(results, q);
  } }, h("label", { for: "order-search" }, "Order number or customer"), input,
  h("button", { type: "submit", class: "primary" }, "Search"));
  replace(view, search, results);
  if (!number) {
    await recentOrders(results);
    return;
  }
  const order = await showOrder(results, number);
  if (!order) return;
  const indicator = liveIndicator();
  view.insertBefore(indicator, results);
  const refresh = serialized(async () => {
    await showOrder(results, number);
    updatedNow(indicator, "a change of this order");
  });
  live("orderChanged", "subscription($id: ID) { orderChanged(id: $id) { id } }", { id: order.id }, refresh, indicator);
}

async function recentOrders(target) {
  replace(target, loading());
  const { data, errors } = await gql(`{ orders(first: 20) { nodes { ${pick("Order", ORDER_ROW)} } } }`);
  replace(target, partialNotice(errors), section("Recent orders", orderTable("Recent orders", data.orders?.nodes ?? [])));
}

function orderLink(number) {
  return h("a", { href: `#/orders/${encodeURIComponent(number)}` }, number);
}

function orderTable(caption, orders) {
  const sample = orders[0] ?? {};
  return table(caption, [
    { label: "Order", cell: (o) => orderLink(o.number) },
    { label: "Status", cell: (o) => badge(o.status) },
    "placedAt" in sample && { label: "Placed", cell: (o) => when(o.placedAt) },
    "customer" in sample && { label: "Customer", cell: (o) => o.customer?.name },
    "fulfillment" in sample && { label: "Fulfillment", cell: (o) => o.fulfillment && badge(o.fulfillment) },
    "total" in sample && { label: "Total", cell: (o) => money(o.total), numeric: true },
  ], orders, { empty: "No orders." });
}

async function searchCustomers(target, word) {
  replace(target, loading("Searching customers…"));
  const orders = pick("Order", ORDER_ROW);
  const query = `query($q: String) { customers(first: 10, search: $q) { nodes { id name ${can("Customer", "number") ? "number" : ""}
    orders(first: 10) { nodes { ${orders} } } } } }`;
  const { data, errors } = await gql(query, { q: word || null });
  const customers = data.customers?.nodes ?? [];
  replace(target, partialNotice(errors),
    customers.length === 0 ? emptyState(`No customer matches “${word}”.`) :
      customers.map((c) => section(`${c.name}${c.number ? ` (${c.number})` : ""}`,
        orderTable(`Orders of ${c.name}`, c.orders?.nodes ?? []))));
}

async function showOrder(target, number) {
  replace(target, loading(`Loading ${number}…`));
  const { data, errors } = await gql(`query($n: String) { order(number: $n) { ${pick("Order", ORDER)} } }`, { n: number });
  const order = data.order;
  if (!order) {
    replace(target, emptyState(`No order ${number} (or none this role may read).`));
    return null;
  }
  const process = await orderProcess(order.id);
  replace(target, partialNotice(errors), orderHeader(order), orderLines(order), orderShipments(order), process);
  return order;
}

function orderHeader(o) {
  const c = o.customer;
  return section(`Order ${o.number}`, h("div", { class: "cards" },
    h("div", { class: "card" }, h("h3", {}, "Order (CRM)"), facts([
      ["Status", badge(o.status)], ["Placed", when(o.placedAt)],
      ["Subtotal", money(o.subtotal)], ["Tax", money(o.tax)], ["Total", money(o.total)],
    ])),
    o.fulfillment !== undefined && h("div", { class: "card" }, h("h3", {}, "Fulfillment (ERP)"), facts([
      ["Fulfillment", o.fulfillment ? badge(o.fulfillment) : "not mirrored to the ERP"],
      ["Shipments", o.shipments ? String(o.shipments.length) : undefined],
    ])),
    c && h("div", { class: "card", id: "customer" }, h("h3", {}, "Customer"), facts([
      ["Name", c.name], ["Number", c.number], ["Industry", c.industry],
      ["Email", c.email], ["Phone", c.phone], ["Ship to", c.shippingAddress === undefined ? undefined : address(c.shippingAddress)],
      ["Credit limit", c.creditLimit === undefined ? undefined : money(c.creditLimit)],
    ]))));
}

function stockCell(product) {
  if (!product?.stock) return product?.stock;
  if (product.stock.length === 0) return "no stock records";
  return h("ul", { class: "plain" }, product.stock.map((s) =>
    h("li", { class: s.available <= 0 ? "short" : null }, `${s.warehouse.name}: ${s.available} available (${s.onHand} on hand, ${s.reserved} reserved)`,
      s.belowReorderLevel ? [" ", badge("BELOW_REORDER", "below reorder level")] : null)));
}

function orderLines(o) {
  if (!o.lines) return null;
  const product = o.lines.find((l) => l.product)?.product ?? {};
  return section("Lines", table(`Lines of ${o.number}`, [
    { label: "SKU", cell: (l) => l.sku },
    "name" in product && { label: "Product", cell: (l) => l.product?.name },
    { label: "Quantity", cell: (l) => `${l.quantity}${l.product?.uom ? ` ${l.product.uom}` : ""}`, numeric: true },
    "unitPrice" in (o.lines[0] ?? {}) && { label: "Unit price", cell: (l) => money(l.unitPrice), numeric: true },
    "total" in (o.lines[0] ?? {}) && { label: "Line total", cell: (l) => money(l.total), numeric: true },
    "stock" in product && { label: "Stock per warehouse (ERP)", cell: (l) => stockCell(l.product) },
  ], o.lines, { empty: "This order has no lines." }));
}

function orderShipments(o) {
  if (o.shipments === undefined) return null;
  return section("Shipments (ERP)", shipmentTable(`Shipments of ${o.number}`, o.shipments ?? []));
}

function shipmentTable(caption, shipments) {
  const sample = shipments[0] ?? {};
  return table(caption, [
    { label: "Shipment", cell: (s) => s.id },
    "orderNumber" in sample && { label: "Order", cell: (s) => s.orderNumber && (session.query.has("order") ? orderLink(s.orderNumber) : s.orderNumber) },
    "carrier" in sample && { label: "Carrier", cell: (s) => [s.carrier, s.service].filter(Boolean).join(" · ") },
    { label: "Status", cell: (s) => badge(s.status) },
    "trackingNumber" in sample && { label: "Tracking", cell: (s) => s.trackingNumber && (s.trackingUrl ? safeLink(s.trackingUrl, s.trackingNumber) : s.trackingNumber) },
    "pickupDate" in sample && { label: "Pickup", cell: (s) => s.pickupDate },
    "destination" in sample && { label: "Destination", cell: (s) => address(s.destination) },
    "value" in sample && { label: "Value", cell: (s) => money(s.value), numeric: true },
  ], shipments, { empty: "No shipments yet." });
}

async function orderProcess(orderId) {
  if (!session.query.has("orderProcess")) return null;
  const { data } = await gql(`query($id: ID!) { orderProcess(id: $id) { ${pick("OrderProcess", PROCESS)} } }`, { id: orderId });
  const p = data.orderProcess;
  if (!p) return section("Process", emptyState("Not placed through Crossdock (or by another user): no process steps."));
  return section("Process (placed through Crossdock)", facts([["Status", badge(p.status)], ["ERP order", p.erpOrder]]),
    p.error ? processError("Last error", p.error) : null, p.attention ? processError("Needs attention", p.attention) : null,
    table("Process steps", [
      { label: "Step", cell: (s) => s.step }, { label: "State", cell: (s) => badge(s.state, s.state) },
      { label: "At", cell: (s) => when(s.at) }, { label: "Detail", cell: (s) => s.message },
    ], p.steps ?? [], { empty: "No steps journaled yet." }));
}

function processError(title, e) {
  return h("div", { class: "error", role: "alert" }, h("strong", {}, `${title}: `), `${e.code} at ${e.step}: ${e.message}`);
}

// ---------------------------------------------------------------- Approvals

async function approvalsPage(view) {
  const indicator = liveIndicator();
  // The last approval's answer lives outside the queue, so that a re-read of the queue (after
  // it, or on a live event racing it) never replaces or loses it.
  const result = h("div", { id: "approval-result", "aria-live": "polite" });
  const queue = h("div", {});
  replace(view, indicator, result, queue);
  let shown = new Set();
  const reread = serialized(async () => {
    shown = await renderApprovals(queue, result, reread);
  });
  shown = await renderApprovals(queue, result, reread);
  const onChange = (data) => {
    const changed = data.orderChanged;
    if (changed.status === "PENDING_APPROVAL" || shown.has(changed.id)) {
      reread().then(() => updatedNow(indicator, "a change of a held order"));
    }
  };
  live("orderChanged", "subscription { orderChanged { id status } }", {}, onChange, indicator);
}

// The queue into `view` (approvals answer into `result`); returns the ids of the held orders it shows.
async function renderApprovals(view, result, reread) {
  replace(view, loading("Loading held orders…"));
  const { data, errors } = await gql(`{ orders(first: ${PAGE_SIZE}, status: PENDING_APPROVAL) { nodes { ${pick("Order", ORDER_ROW)} } } }`);
  const held = data.orders?.nodes ?? [];
  const ids = held.map((o) => o.id);
  const processes = ids.length ? await heldProcesses(ids) : [];
  const placed = held.map((o, i) => ({ order: o, process: processes[i] })).filter((x) => x.process && x.process.status === "PENDING_APPROVAL");
  const elsewhere = held.filter((_, i) => !processes[i]);
  const mayApprove = session.mutation.has("approveOrder");
  replace(view, partialNotice(errors),
    mayApprove ? null : h("p", { class: "notice" }, "Your role may read held orders but not approve or cancel them."),
    section("Held by Crossdock", placed.length === 0 ? emptyState("No order is waiting for approval.") :
      h("ul", { class: "queue" }, placed.map((x) => heldCard(x.order, x.process, mayApprove, result, reread)))),
    section("Held without a process you may act on",
      h("p", { class: "hint" }, mayApprove
        ? "These were not placed through Crossdock: there is no process to approve here; approve them in the CRM."
        : "Placed outside Crossdock, or through Crossdock by another user (only approvers see every process)."),
      orderTable("Held orders without a visible process", elsewhere)));
  return new Set(ids);
}

// The processes of `ids`, PROCESS_BATCH per request: the gateway's operation limits allow
// 20 root fields and 30 aliases by default.
const PROCESS_BATCH = 10;

async function heldProcesses(ids) {
  const batches = [];
  for (let start = 0; start < ids.length; start += PROCESS_BATCH) batches.push(ids.slice(start, start + PROCESS_BATCH));
  return (await Promise.all(batches.map(processBatch))).flat();
}

async function processBatch(ids) {
  const vars = ids.map((_, i) => `$i${i}: ID!`).join(", ");
  const fields = ids.map((_, i) => `p${i}: orderProcess(id: $i${i}) { ${pick("OrderProcess", PROCESS)} }`).join(" ");
  const variables = Object.fromEntries(ids.map((id, i) => [`i${i}`, id]));
  const { data } = await gql(`query(${vars}) { ${fields} }`, variables);
  return ids.map((_, i) => data[`p${i}`]);
}

function reasonsTable(caption, approval) {
  if (!approval?.reasons) return null;
  return table(caption, [
    { label: "Rule", cell: (r) => r.rule },
    { label: "Result", cell: (r) => badge(r.passed ? "PASSED" : "FAILED_RULE", r.passed ? "passed" : "failed") },
    { label: "Evidence", cell: (r) => r.message },
  ], approval.reasons, { empty: "No rules reported.", rowClass: (r) => (r.passed ? null : "failing") });
}

function heldCard(order, process, mayApprove, result, reread) {
  const act = (kind) => confirmAction(kind, order, async () => {
    const field = kind === "approve" ? "approveOrder" : "cancelOrder";
    replace(result, loading(`${kind === "approve" ? "Approving" : "Cancelling"} ${order.number}…`));
    try {
      const { data, errors } = await gql(`mutation($id: ID!) { ${field}(id: $id) { ${pick("PlaceOrderResult", RESULT)} } }`, { id: process.id });
      replace(result, partialNotice(errors), mutationResult(order.number, kind, data[field]));
    } catch (error) {
      replace(result, errorState(error.message));
      return;
    }
    await reread();  // the queue afresh; the answer stays above it
  });
  return h("li", { class: "card held", "data-order": order.number },
    h("h3", {}, orderLink(order.number), " ", badge(process.status)),
    facts([["Customer", order.customer?.name], ["Total", order.total === undefined ? undefined : money(order.total)], ["Placed", when(order.placedAt)]]),
    reasonsTable(`Rules for ${order.number}`, process.approval),
    mayApprove && h("div", { class: "actions" },
      button(`Approve ${order.number}`, () => act("approve"), { class: "primary" }),
      session.mutation.has("cancelOrder") && button(`Cancel ${order.number}`, () => act("cancel"), { class: "danger" })));
}

function confirmAction(kind, order, run) {
  const verb = kind === "approve" ? "Approve" : "Cancel";
  const consequence = kind === "approve"
    ? "The order is mirrored to the ERP, its stock is reserved and the CRM order is approved."
    : "The order is cancelled in the CRM and any stock it holds in the ERP is released.";
  confirmDialog(`${verb} ${order.number}?`, consequence, `Yes, ${verb.toLowerCase()} ${order.number}`,
    kind === "approve" ? "primary" : "danger", run);
}

// The one confirmation: a modal <dialog> (Escape or "Go back" changes nothing).
function confirmDialog(title, consequence, yes, tone, run) {
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
    h("h2", { id: "confirm-title" }, title), [consequence].flat().map((part) => (part instanceof Node ? part : h("p", {}, part))));
  const close = () => { dialog.close(); dialog.remove(); };
  append(dialog, [h("div", { class: "actions" },
    button(yes, () => { close(); run(); }, { class: tone, id: "confirm-yes" }),
    button("Go back", close, { autofocus: true }))]);
  dialog.addEventListener("cancel", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function mutationResult(number, kind, r) {
  return section(`${kind === "approve" ? "Approval" : "Cancellation"} of ${number}: the gateway's answer`,
    facts([["Process", badge(r.status)], ["CRM order", r.order ? badge(r.order.status) : undefined],
      ["Fulfillment", r.order?.fulfillment === undefined ? undefined : r.order.fulfillment ? badge(r.order.fulfillment) : "not mirrored"]]),
    r.error ? processError("Not done", r.error) : null,
    r.reservations && r.reservations.length ? table(`Reservations of ${number}`, [
      { label: "SKU", cell: (x) => x.sku }, { label: "Warehouse", cell: (x) => x.warehouse },
      { label: "Quantity", cell: (x) => x.quantity, numeric: true }, { label: "Reserved", cell: (x) => x.reserved, numeric: true },
    ], r.reservations) : null);
}

// ---------------------------------------------------------------- Shipments

async function renderShipments(view) {
  const list = h("div", {});
  const indicator = liveIndicator();
  const status = h("select", { id: "shipment-status", onchange: () => load(null, true) },
    h("option", { value: "" }, "any status"), Object.keys(SHIPMENT_STATUSES).map((s) => h("option", { value: s }, SHIPMENT_STATUSES[s])));
  const more = h("div", { class: "actions" });
  const fields = pick("Shipment", SHIPMENT.filter((f) => typeof f === "string" || f.f !== "lines"));
  const partner = session.viewer.partnerId ? ` (carrier ${session.viewer.partnerId} only)` : "";
  let rows = [];
  let errors = [];
  const draw = () => replace(list, partialNotice(errors), shipmentTable(`Shipments${partner}`, rows));
  const load = async (after, fresh) => {
    if (fresh) rows = [];
    replace(more, loading());
    const answer = await gql(`query($after: String, $status: ShipmentStatus) {
      shipments(first: ${PAGE_SIZE}, after: $after, status: $status) { nodes { ${fields} } pageInfo { hasNextPage endCursor } } }`,
    { after, status: status.value || null });
    rows = rows.concat(answer.data.shipments?.nodes ?? []);
    errors = answer.errors;
    draw();
    const page = answer.data.shipments?.pageInfo;
    replace(more, page?.hasNextPage ? button("Load more", () => load(page.endCursor, false)) : null);
  };
  // A changed shipment as the gateway reads it now (a partner hears only of its carrier's):
  // its row is replaced, or it leads the list when new and of the chosen status.
  const changed = (data) => {
    const shipment = data.shipmentChanged;
    const index = rows.findIndex((r) => r.id === shipment.id);
    const fits = !status.value || shipment.status === status.value;
    if (index >= 0) rows = fits ? rows.map((r, i) => (i === index ? shipment : r)) : rows.filter((_, i) => i !== index);
    else if (fits) rows = [shipment, ...rows];
    draw();
    updatedNow(indicator, `a change of ${shipment.id}`);
  };
  replace(view, indicator, h("div", { class: "form form--inline" }, h("label", { for: "shipment-status" }, "Status"), status), list, more);
  await load(null, true);
  live("shipmentChanged", `subscription { shipmentChanged { ${fields} } }`, {}, changed, indicator);
}

const SHIPMENT_STATUSES = { DRAFT: "draft", BOOKED: "booked", IN_TRANSIT: "in transit", DELIVERED: "delivered", CANCELLED: "cancelled", EXCEPTION: "exception" };

// ---------------------------------------------------------------- Stock

async function renderStock(view) {
  const list = h("div", {});
  const more = h("div", { class: "actions" });
  const indicator = liveIndicator();
  const onlyShort = h("input", { type: "checkbox", id: "only-short", onchange: () => draw() });
  const warehouse = h("select", { id: "stock-warehouse", onchange: () => draw() }, h("option", { value: "" }, "all warehouses"));
  const reorder = can("StockLevel", "reorderLevel");
  let rows = [];
  // below its re-order level: ERPNext's verdict per warehouse (StockLevel.belowReorderLevel)
  const attention = (r) => r.available <= 0 || r.belowReorderLevel === true;
  const draw = () => {
    const names = [...new Set(rows.map((r) => r.warehouse))].sort();
    const chosen = warehouse.value;
    replace(warehouse, h("option", { value: "" }, "all warehouses"), names.map((n) => h("option", { value: n, selected: n === chosen }, n)));
    const shown = rows.filter((r) => (!onlyShort.checked || attention(r)) && (!chosen || r.warehouse === chosen));
    replace(list, table("Stock by product and warehouse", [
      { label: "SKU", cell: (r) => r.sku },
      { label: "Product", cell: (r) => r.name },
      { label: "Warehouse", cell: (r) => r.warehouse },
      { label: "On hand", cell: (r) => r.onHand, numeric: true }, { label: "Reserved", cell: (r) => r.reserved, numeric: true },
      { label: "Available", cell: (r) => (r.available <= 0 ? [badge("SHORT", "short"), " ", String(r.available)] : r.available), numeric: true },
      { label: "Projected", cell: (r) => r.projected, numeric: true },
      reorder && { label: "Reorder level", cell: (r) => reorderCell(r), numeric: true },
    ], shown, { empty: onlyShort.checked ? "Nothing is short or below its reorder level." : "No stock records.",
      rowClass: (r) => (r.available <= 0 ? "short" : r.belowReorderLevel ? "below" : null) }));
  };
  const levels = (p) => (p.stock ?? []).map((s) => ({ ...s, sku: p.sku, name: p.name, warehouse: s.warehouse.name }));
  const load = async (after) => {
    replace(more, loading());
    const { data, errors } = await gql(`query($after: String) { products(first: ${PAGE_SIZE}, after: $after) {
      nodes { sku name stock { ${pick("StockLevel", STOCK)} } } pageInfo { hasNextPage endCursor } } }`, { after });
    for (const p of data.products?.nodes ?? []) rows.push(...levels(p));
    draw();
    if (errors.length) list.prepend(partialNotice(errors));
    const page = data.products?.pageInfo;
    replace(more, page?.hasNextPage ? button("Load more products", () => load(page.endCursor)) : null);
  };
  // A stock change in the ERP: the product's levels (and reorder verdicts) as read now.
  const changed = (data) => {
    const product = data.stockChanged;
    const index = rows.findIndex((r) => r.sku === product.sku);
    if (index < 0) return;  // not on the loaded pages
    rows = [...rows.slice(0, index), ...levels(product), ...rows.slice(index).filter((r) => r.sku !== product.sku)];
    draw();
    updatedNow(indicator, `a stock change of ${product.sku}`);
  };
  replace(view, h("p", { class: "hint" }, reorder
    ? "Rows with nothing available are marked short; rows whose projected quantity is at or below the ERP's reorder level for that warehouse (ERPNext's Item Reorder) are marked below reorder level."
    : "Rows with nothing available are marked short."),
  indicator,
  h("div", { class: "form form--inline" }, h("label", { for: "stock-warehouse" }, "Warehouse"), warehouse,
    onlyShort, h("label", { for: "only-short" }, "Only rows that need attention")), list, more);
  await load(null);
  live("stockChanged", `subscription { stockChanged { sku name stock { ${pick("StockLevel", STOCK)} } } }`, {}, changed, indicator);
}

function reorderCell(r) {
  if (r.reorderLevel === null || r.reorderLevel === undefined) return "none";
  const level = `${r.reorderLevel} (orders ${r.reorderQuantity ?? "?"})`;
  return r.belowReorderLevel ? [badge("BELOW_REORDER", "below reorder level"), " ", level] : level;
}

// ---------------------------------------------------------------- Exports

async function renderExports(view) {
  replace(view, loading("Loading the views your role may read…"));
  let response;
  try {
    response = await fetch(VIEWS, { headers: { Authorization: `Bearer ${session.token}`, Accept: "application/json" } });
  } catch {
    throw new ConsoleError("The gateway did not answer. Try again.");
  }
  if (response.status === 404) {
    replace(view, emptyState("Exports are not enabled on this gateway ([views] enabled = false)."));
    return;
  }
  if (!response.ok) throw new ConsoleError(`The views list answered HTTP ${response.status}.`);
  const views = (await response.json()).views ?? [];
  const status = h("p", { id: "download-status", role: "status", "aria-live": "polite" });
  replace(view, status, table("Views", [
    { label: "View", cell: (v) => h("code", {}, v.name) },
    { label: "Rows", cell: (v) => v.description },
    { label: "Columns", cell: (v) => v.columns.join(", ") },
    { label: "Left out for your role", cell: (v) => (v.omittedColumns.length ? v.omittedColumns.join(", ") : "none") },
    { label: "Download", cell: (v) => h("span", { class: "actions" }, v.formats.map((f) =>
      button(f.toUpperCase(), () => download(v, f, status), { "data-view": v.name, "data-format": f, "aria-label": `Download ${v.name} as ${f}` }))) },
  ], views, { empty: "Your role may read no view." }));
}

// The download carries the token in a header (never in the URL): fetched, then saved from a blob.
async function download(view, format, status) {
  const url = view.links?.[format] ?? `${VIEWS}/${view.name}.${format}`;
  replace(status, `Downloading ${view.name}.${format}…`);
  try {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!response.ok) throw new ConsoleError(`HTTP ${response.status}`);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${view.name}.${format}`;
    const link = h("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    replace(status, `Saved ${name} (${blob.size} bytes).`);
  } catch (error) {
    replace(status, h("span", { class: "error-text" }, `The download of ${view.name}.${format} failed (${error.message}); try again.`));
  }
}

// ---------------------------------------------------------------- Sync

const SYNC = [{ f: "sources", type: "SyncSource", sel: ["system", "pending", "retrying", "dead", "done", "lagSeconds", "lastReceivedAt", "lastDoneAt"] },
  { f: "failed", type: "SyncFailure", sel: ["id", "key", "version", "state", "attempts", "reason", "receivedAt", "nextAttemptAt"] },
  { f: "watermarks", type: "SyncWatermark", sel: ["source", "value"] }];
const SYSTEMS = { crm: "CRM", erp: "ERP" };

async function renderSync(view) {
  const status = h("div", {});
  const result = h("div", { id: "sync-result", "aria-live": "polite" });
  const refresh = serialized(async () => {
    try {
      await showSync(status, result, refresh);
    } catch (error) {
      replace(status, errorState(error.message, () => refresh()));
    }
  });
  replace(view, h("p", { class: "hint" }, "Changes heard from the CRM and the ERP wait in the gateway's inbox until the sync rules have applied them to the other system. A change whose rule failed is tried again later; after its last attempt it is parked (dead) until someone retries it."),
    h("div", { class: "actions" }, button("Refresh", () => refresh())), result, status);
  await showSync(status, result, refresh);
}

async function showSync(target, result, refresh) {
  replace(target, loading("Reading the sync inbox…"));
  const { data, errors } = await gql(`{ syncStatus { ${pick("SyncStatus", SYNC)} } }`);
  const sync = data.syncStatus;
  if (!sync) {
    const off = errors.some((e) => e.extensions?.code === "SYNC_OFF");
    replace(target, off ? emptyState("Sync is off on this gateway ([sync] enabled = false): there is no inbox.") : errorState(describeErrors(errors), refresh));
    return;
  }
  const mayRetry = session.mutation.has("retrySyncChange");
  replace(target, partialNotice(errors),
    section("Per source system", table("Sync lag and inbox per source system", [
      { label: "From", cell: (x) => SYSTEMS[x.system] ?? x.system },
      { label: "Lag", cell: (x) => (x.lagSeconds > 0 ? badge("LAGGING", `${x.lagSeconds} s behind`) : badge("IN_SYNC", "in sync")) },
      { label: "Pending", cell: (x) => x.pending, numeric: true }, { label: "Retrying", cell: (x) => x.retrying, numeric: true },
      { label: "Dead", cell: (x) => (x.dead ? badge("DEAD", String(x.dead)) : "0"), numeric: true },
      { label: "Applied", cell: (x) => x.done, numeric: true },
      { label: "Last received", cell: (x) => when(x.lastReceivedAt) }, { label: "Last applied", cell: (x) => when(x.lastDoneAt) },
    ], sync.sources ?? [], { empty: "No change received yet." })),
    section("Failed changes", table("Failed changes (dead letters and retries)", [
      { label: "Change", cell: (f) => f.id }, { label: "Record", cell: (f) => h("code", {}, f.key) },
      { label: "State", cell: (f) => badge(f.state, f.state === "DEAD" ? "dead" : "waiting for retry") },
      { label: "Attempts", cell: (f) => f.attempts, numeric: true }, { label: "Reason", cell: (f) => f.reason },
      { label: "Received", cell: (f) => when(f.receivedAt) },
      { label: "Next attempt", cell: (f) => (f.nextAttemptAt ? when(f.nextAttemptAt) : "none: retry by hand") },
      mayRetry && { label: "Action", cell: (f) => button(`Retry change ${f.id}`, () => retryChange(f, result, refresh)) },
    ], sync.failed ?? [], { empty: "No failed change: every change was applied or is on its way.", rowClass: (f) => (f.state === "DEAD" ? "failing" : null) })),
    sync.watermarks && section("Catch-up poll", table("Watermarks of the catch-up poll", [
      { label: "Source", cell: (w) => h("code", {}, w.source) }, { label: "Read up to", cell: (w) => w.value },
    ], sync.watermarks, { empty: "The catch-up poll has not run yet." })));
}

function retryChange(failed, result, refresh) {
  confirmDialog(`Retry change ${failed.id}?`,
    [`${failed.key}: ${failed.reason}`, "The change is put back in the inbox and applied now by the sync rules, as if it had just arrived."],
    `Yes, retry change ${failed.id}`, "primary", async () => {
      replace(result, loading(`Retrying change ${failed.id}…`));
      try {
        const { data } = await gql("mutation($id: ID!) { retrySyncChange(id: $id) { id retried message } }", { id: failed.id });
        const r = data.retrySyncChange;
        replace(result, section(`Retry of change ${failed.id}: the gateway's answer`,
          facts([["Result", r.retried ? badge("APPLIED", "put back to be applied") : badge("GONE", "nothing to retry")], ["Detail", r.message]])));
      } catch (error) {
        replace(result, errorState(error.message));
        return;
      }
      await refresh();
    });
}

// ---------------------------------------------------------------- Reconciliation

const RECORD = ["kind", "id", "system", "label"];
const FINDING = ["id", "category", "severity", "summary", "fix", "fixable", "repair",
  { f: "records", type: "RecordRef", sel: RECORD }];
const RUN = ["id", "trigger", "startedAt", "finishedAt", "findings", "errors", "warnings", "infos"];
const REPAIR = ["findingId", "status", "message", "journalId",
  { f: "actions", type: "RepairAction", sel: ["operation", { f: "record", type: "RecordRef", sel: RECORD },
    { f: "before", type: "FieldValue", sel: ["field", "value"] }, { f: "after", type: "FieldValue", sel: ["field", "value"] }] }];

async function renderReconciliation(view) {
  const result = h("div", { id: "repair-result", "aria-live": "polite" });
  const findings = h("div", { id: "findings" });
  const fresh = async () => {
    replace(findings, loading("Reading both systems (a full run: every page)…"));
    try {
      const { data, errors } = await gql(`{ reconciliation { ${pick("ReconciliationFinding", FINDING)} } }`);
      const at = new Date().toISOString().slice(11, 16);
      replace(findings, partialNotice(errors), section(`Read afresh at ${at} UTC`, findingTable(data.reconciliation ?? [], result)));
    } catch (error) {
      replace(findings, errorState(error.message, fresh));
    }
  };
  replace(view, h("p", { class: "hint" }, "Where the CRM and the ERP disagree. The last stored run (scheduled, or `crossdock reconcile`) is shown first; read both systems now for the current state."),
    h("div", { class: "actions" }, button("Read both systems now", fresh, { class: "primary" })), result, findings);
  await storedRun(findings, result);
}

async function storedRun(target, result) {
  if (!session.query.has("reconciliationRun") || !session.query.has("reconciliationFindings")) return;
  replace(target, loading("Loading the last stored run…"));
  const { data, errors } = await gql(`{ reconciliationRun { ${pick("ReconciliationRun", RUN)} }
    reconciliationFindings(first: ${PAGE_SIZE}) { nodes { ${pick("ReconciliationFinding", FINDING)} } pageInfo { hasNextPage } } }`);
  const run = data.reconciliationRun;
  if (!run) {
    replace(target, partialNotice(errors), emptyState("No stored run yet: the schedule ([reconcile] every) or `crossdock reconcile` stores one. Read both systems now to see the current findings."));
    return;
  }
  const page = data.reconciliationFindings;
  replace(target, partialNotice(errors), section(`Last stored run #${run.id}`,
    facts([["Started", when(run.startedAt)], ["Finished", run.finishedAt ? when(run.finishedAt) : "still running"], ["By", run.trigger],
      ["Findings", `${run.findings} (${run.errors} errors, ${run.warnings} warnings, ${run.infos} hints)`]]),
    findingTable(page?.nodes ?? [], result),
    page?.pageInfo?.hasNextPage ? h("p", { class: "hint" }, `The first ${PAGE_SIZE} findings are shown; \`crossdock reconcile\` lists them all.`) : null));
}

function findingTable(findings, result) {
  const mayRepair = session.mutation.has("repairFinding");
  return table("Findings", [
    { label: "Severity", cell: (f) => badge(f.severity) }, { label: "Category", cell: (f) => h("code", {}, f.category) },
    { label: "Finding", cell: (f) => f.summary },
    { label: "Records", cell: (f) => (f.records ?? []).map((r) => `${r.system.toUpperCase()} ${r.kind} ${r.id}`).join("; ") },
    { label: "Fix", cell: (f) => f.fix },
    mayRepair && { label: "Action", cell: (f) => (f.fixable ? h("span", { class: "repair" }, button(`Repair ${f.category} ${findingSubject(f)}`, (e) => repair(f, e.target.parentElement, result))) : "by hand") },
  ], findings, { empty: "The CRM and the ERP agree: no findings." });
}

function findingSubject(f) {
  return f.records?.[0]?.id ?? f.id;
}

// A repair: its dry run first (what it would write, on fresh data), shown in the confirmation;
// a finding already gone or not fixable is answered at once, without a dialog.
async function repair(finding, cell, result) {
  const ask = (dryRun) => gql(`mutation($id: ID!, $dry: Boolean!) { repairFinding(id: $id, dryRun: $dry) { ${pick("RepairResult", REPAIR)} } }`,
    { id: finding.id, dry: dryRun });
  let plan;
  try {
    plan = (await ask(true)).data.repairFinding;
  } catch (error) {
    replace(result, errorState(error.message));
    return;
  }
  if (plan.status !== "PLANNED") {
    replace(result, repairResult(finding, plan));
    replace(cell, badge(plan.status));
    return;
  }
  const writes = (plan.actions ?? []).map((a) => `${a.operation} ${recordName(a.record)}${a.after?.length ? `: ${fieldValues(a.after)}` : ""}`);
  confirmDialog(`Repair ${finding.category} ${findingSubject(finding)}?`,
    [finding.summary, "Crossdock will write (checked again on fresh data just now):", h("ul", { class: "plain" }, writes.map((w) => h("li", {}, w))),
      "The writes are journaled with you as the actor."],
    "Yes, repair it", "primary", async () => {
      replace(result, loading(`Repairing ${finding.category}…`));
      try {
        const { data, errors } = await ask(false);
        const r = data.repairFinding;
        replace(result, partialNotice(errors), repairResult(finding, r));
        replace(cell, badge(r.status));
      } catch (error) {
        replace(result, errorState(error.message));
      }
    });
}

function recordName(record) {
  return `${record.system.toUpperCase()} ${record.kind} ${record.id}`;
}

function fieldValues(list) {
  return (list ?? []).map((v) => `${v.field}: ${v.value ?? "—"}`).join(", ") || "—";
}

function repairResult(finding, r) {
  const title = r.status === "PLANNED" ? "planned" : "the gateway's answer";
  return section(`Repair of ${finding.category} ${findingSubject(finding)}: ${title}`,
    facts([["Result", badge(r.status)], ["Detail", r.message], ["Journal entry", r.journalId ?? undefined]]),
    r.actions && r.actions.length ? table("Writes of the repair", [
      { label: "Operation", cell: (a) => a.operation },
      { label: "Record", cell: (a) => recordName(a.record) },
      "before" in r.actions[0] && { label: "Before", cell: (a) => fieldValues(a.before) },
      "after" in r.actions[0] && { label: "After", cell: (a) => fieldValues(a.after) },
    ], r.actions) : null);
}

// ---------------------------------------------------------------- start

async function start() {
  window.addEventListener("hashchange", () => route());
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    await renderSignIn();
    return;
  }
  try {
    await signIn(token);
    await route();
  } catch (error) {
    signOut(error.message);
  }
}

start();
