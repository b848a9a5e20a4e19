"""Read models for the console pages (页面数据来源), one module per capability.

Each page's data comes from the owning capability's query functions (``yibao.<capability>.queries``)
or public service functions, always filtered through :mod:`yibao.console.scoping`; a read model
turns those plain rows into what the page shows (Chinese labels, yuan, China time) and never
touches a capability's tables itself. Where a capability has not delivered its data yet the source
returns :class:`~yibao.web.unavailable.Unavailable` with a plain Chinese explanation, and the page
says so; nothing is invented.
"""
