// Crossdock's GraphiQL page: a token field above GraphiQL, and the schema of the token's role.
//
// No token, no request: GraphiQL gets `schema: null` (it fetches nothing) until a token is
// given in the field or as "Authorization" in its headers pane. Each change of either makes
// a new fetcher, and GraphiQL fetches the schema again with it, so the docs pane and
// autocomplete always show what the current token may query. The token is kept for the tab
// only (sessionStorage); the headers pane is not persisted.
(function () {
  "use strict";

  const h = React.createElement;
  const endpoint = window.location.pathname; // the page is served at the GraphQL endpoint
  const config = JSON.parse(document.getElementById("crossdock-config").textContent);
  const STORE = "crossdock.graphiql.token";
  const VIEWER = "query CrossdockViewer { viewer { subject roles partnerId } }";

  function storedToken() {
    try {
      return window.sessionStorage.getItem(STORE) || "";
    } catch (error) {
      return "";
    }
  }

  function storeToken(token) {
    try {
      if (token) window.sessionStorage.setItem(STORE, token);
      else window.sessionStorage.removeItem(STORE);
    } catch (error) {
      // storage disabled: the token lasts until the page is reloaded
    }
  }

  // GraphiQL keeps its tabs in localStorage; the first visit opens with the order page
  function firstVisit() {
    try {
      return window.localStorage.getItem("graphiql:tabState") === null;
    } catch (error) {
      return true;
    }
  }

  function authorizationOf(headers) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === "authorization") return String(headers[key]);
    }
    return "";
  }

  // What was pasted: "eyJ…", "Bearer eyJ…" or {"Authorization": "Bearer eyJ…"} → "eyJ…"
  function bareToken(text) {
    let token = text.trim();
    if (token.startsWith("{")) {
      try {
        token = authorizationOf(JSON.parse(token));
      } catch (error) {
        return token;
      }
    }
    return token.replace(/^bearer\s+/i, "").trim();
  }

  // The Authorization header in GraphiQL's headers pane; undefined while the pane is not JSON.
  function paneAuthorization(text) {
    if (!text || !text.trim()) return "";
    try {
      const headers = JSON.parse(text);
      return headers && typeof headers === "object" ? authorizationOf(headers) : undefined;
    } catch (error) {
      return undefined;
    }
  }

  function fetcherFor(token) {
    return async function fetcher(params, options) {
      const headers = new Headers({
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      });
      if (token) headers.set("Authorization", "Bearer " + token);
      const extra = (options && options.headers) || {};
      for (const key of Object.keys(extra)) headers.set(key, String(extra[key])); // pane wins
      const response = await fetch(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify(params),
        credentials: "same-origin",
      });
      return response.json();
    };
  }

  function describe(result) {
    const viewer = result && result.data && result.data.viewer;
    if (viewer) {
      const partner = viewer.partnerId ? ", partner " + viewer.partnerId : "";
      const roles = viewer.roles.length ? viewer.roles.join(", ") : "no role";
      return { ok: true, text: "Signed in as " + viewer.subject + " (" + roles + partner + ")" };
    }
    const error = result && result.errors && result.errors[0];
    return { ok: false, text: "Token refused: " + (error ? error.message : "no answer") };
  }

  function TokenBar(props) {
    const [draft, setDraft] = React.useState("");
    function submit(event) {
      event.preventDefault();
      props.onToken(bareToken(draft));
      setDraft("");
    }
    const hint = props.authorized
      ? props.status.text
      : "No token yet: `make demo` prints one per role, `crossdock token --role sales` mints one.";
    const statusClass = props.status.ok === false ? " crossdock-error" : "";
    return h(
      "form",
      { className: "crossdock-bar", onSubmit: submit },
      h("label", { htmlFor: "crossdock-token" }, "Bearer token"),
      h("input", {
        id: "crossdock-token",
        type: "password",
        autoComplete: "off",
        spellCheck: false,
        placeholder: props.token ? "•••• (paste another to switch)" : "paste a token",
        value: draft,
        onChange: (event) => setDraft(event.target.value),
      }),
      h("button", { type: "submit" }, "Use token"),
      props.token
        ? h("button", { type: "button", onClick: () => props.onToken("") }, "Forget")
        : null,
      h("span", { className: "crossdock-status" + statusClass, role: "status" }, hint),
    );
  }

  function useDebounced(callback, ms) {
    const timer = React.useRef(undefined);
    return React.useCallback(
      (value) => {
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => callback(value), ms);
      },
      [callback, ms],
    );
  }

  function Page() {
    const [token, setToken] = React.useState(storedToken);
    const [paneAuth, setPaneAuth] = React.useState("");
    const [status, setStatus] = React.useState({ ok: null, text: "Checking the token…" });
    // GraphiQL 3 fills the variables editor from this prop, not from defaultTabs
    const [variables] = React.useState(() => (firstVisit() ? config.variables : undefined));
    const authorized = Boolean(token || paneAuth);
    // a new fetcher whenever the credentials change: GraphiQL fetches the schema again
    const fetcher = React.useMemo(() => fetcherFor(token), [token, paneAuth]);

    React.useEffect(() => {
      if (!authorized) return undefined;
      let current = true;
      const extra = paneAuth ? { headers: { Authorization: paneAuth } } : {};
      setStatus({ ok: null, text: "Checking the token…" });
      fetcher({ query: VIEWER, operationName: "CrossdockViewer" }, extra)
        .then((result) => current && setStatus(describe(result)))
        .catch((error) => current && setStatus({ ok: false, text: String(error) }));
      return () => {
        current = false;
      };
    }, [fetcher, authorized, paneAuth]);

    const onToken = React.useCallback((value) => {
      storeToken(value);
      setToken(value);
    }, []);
    const onPane = React.useCallback((text) => {
      const value = paneAuthorization(text);
      if (value !== undefined) setPaneAuth(value);
    }, []);
    const onEditHeaders = useDebounced(onPane, 300);

    return h(
      "div",
      { className: "crossdock-page" },
      h(TokenBar, { token, authorized, status, onToken }),
      h(
        "div",
        { className: "crossdock-ide" },
        h(GraphiQL, {
          fetcher,
          schema: authorized ? undefined : null,
          defaultTabs: [{ query: config.query, variables: config.variables }],
          variables,
          defaultEditorToolsVisibility: "variables",
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
          onEditHeaders,
        }),
      ),
    );
  }

  const root = ReactDOM.createRoot(document.getElementById("crossdock-graphiql"));
  root.render(h(Page));
})();
