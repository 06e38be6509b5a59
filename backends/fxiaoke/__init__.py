"""The emulated Fxiaoke (纷享销客, ShareCRM) OpenAPI: POST-JSON `/cgi/…` verbs over SQLite.

See docs/fxiaoke.md for the dialect: always HTTP 200 with `errorCode`, corpAccessToken in
the body (or the newer bearer token with `x-fs-ea`/`x-fs-userid`), `search_query_info`
filters, epoch-ms times, money as strings, lookups as `<field>` + `<field>__r`.
"""
