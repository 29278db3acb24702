"""Delivery channels behind one small interface (see :mod:`channels.base`)."""
