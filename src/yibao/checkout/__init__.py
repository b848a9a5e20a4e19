"""Checkout (结算编排): the settlement transactions' orchestration in one database transaction.

Public API: :mod:`yibao.checkout.service` (``classify``, ``price``, ``settle``, ``cancel``,
``settlement_by_msgid``), :mod:`yibao.checkout.model` (pure helpers), :mod:`yibao.checkout.demo`.
"""
