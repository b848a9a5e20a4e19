"""The national interface's wire format (报文格式), pure: the envelope, the two gateway transports'
signatures and exact-money JSON.

Both sides of the wire use it: the gateway (:mod:`yibao.api.nhsa`) and the clients that speak to
it (:mod:`yibao.client`, the HIS simulator, the console's simulator pages). It sits below all of
them, so a client never imports the server's package (no import cycle; ADR 0017).
"""
