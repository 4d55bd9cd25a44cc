"""Thin endpoints: parse the request, ask the services, render."""
