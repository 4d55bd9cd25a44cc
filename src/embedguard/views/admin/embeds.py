"""The allowlist: list, add with preview, edit, enable/disable, refresh, remove, snippets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

import anyio
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from ... import allowlist, review
from ...i18n import N_
from ...posters import Poster, PosterError
from ...preview import preview_url
from ...providers import NotEmbeddable, Provider, UnknownURL
from ...snippets import embed_url, iframe_snippet, script_snippet
from ...store import Embed, StaleEdit
from ...text import clean_text
from ..common import error_page, form_text
from .base import MAX_UPLOAD_BYTES, Admin, Message, action, message, page

MAX_TITLE = 300
MAX_DESCRIPTION = 2000
MAX_URL = 2048
TITLE_TOO_LONG = N_("The title is too long (at most %(n)s characters).")
DESCRIPTION_TOO_LONG = N_("The description is too long (at most %(n)s characters).")


def admin_path(embed: Embed, suffix: str = "") -> str:
    return f"/admin/embeds/{quote(embed.key, safe='/:')}{suffix}"


def _poster(embed: Embed) -> Poster | None:
    try:
        return Poster.from_json(embed.poster) if embed.poster else None
    except ValueError:
        return None


def _row(admin: Admin, embed: Embed) -> dict[str, Any]:
    return {
        "embed": embed,
        "provider": admin.services.registry.get(embed.provider),
        "poster": _poster(embed),
        "path": admin_path(embed),
    }


@page
async def embed_list(admin: Admin) -> Response:
    rows = [_row(admin, embed) for embed in admin.services.store.list_embeds()]
    due = review.due(admin.services.store, admin.services.clock())
    return admin.render("embeds.html", {"rows": rows, "review_due": due})


# -- adding -----------------------------------------------------------------------------


@page
async def add_form(admin: Admin) -> Response:
    return admin.render("add.html", {"url": "", "title": "", "preview": None, "error": None})


async def _add(admin: Admin, form: FormData) -> Response:
    url = (form_text(form, "url", max_length=MAX_URL) or "").strip()
    title = form_text(form, "title", max_length=MAX_TITLE) if "title" in form else ""
    context: dict[str, Any] = {"url": url, "title": title or "", "preview": None, "error": None}
    problem = _check_new(admin, url, title)
    if problem is not None:
        return admin.render("add.html", {**context, "error": problem}, status_code=400)
    try:
        if form.get("step") != "confirm":
            provider, ref, metadata = await allowlist.preview(admin.services, url)
            preview = {"provider": provider, "ref": ref, "metadata": metadata}
            return admin.render("add.html", {**context, "preview": preview})
        clean_title = clean_text(title, MAX_TITLE) or None
        result = await allowlist.add(admin.services, url, title=clean_title, actor=admin.user)
    except allowlist.AllowlistError as error:
        problem = message(
            N_("The provider could not confirm this item: %(reason)s"), "error", reason=str(error)
        )
        return admin.render("add.html", {**context, "error": problem}, status_code=400)
    admin.flash(N_("Added: %(title)s"), title=result.embed.display_title)
    for warning in result.warnings:
        admin.flash(N_("Note: %(warning)s"), "warning", warning=warning)
    return admin.redirect(admin_path(result.embed))


def _check_new(admin: Admin, url: str, title: str | None) -> Message | None:
    """Why ``url`` cannot be added, in words for the admin; None if it may be."""
    services = admin.services
    supported = ", ".join(p.label for p in services.registry)
    if not url:
        return message(N_("Please paste the address (URL) of a video, page or post."), "error")
    if title is None:
        return message(TITLE_TOO_LONG, "error", n=MAX_TITLE)
    try:
        ref = services.registry.resolve(url)
    except UnknownURL:
        ref = None
    except NotEmbeddable as error:
        return message(
            N_("embedguard cannot show this address: %(reason)s"), "error", reason=str(error)
        )
    if ref is None:
        return message(
            N_(
                "embedguard cannot show this address. Paste the link of a video, page or post "
                "on one of: %(supported)s (for example https://vimeo.com/76979871)."
            ),
            "error",
            supported=supported,
        )
    if services.store.get_embed(ref.key) is not None:
        return message(N_("This item is already on the allowlist (%(key)s)."), "error", key=ref.key)
    try:
        allowlist.recognise(services, url)
    except allowlist.AllowlistError as error:
        return message(N_("This cannot be added yet: %(reason)s"), "error", reason=str(error))
    return None


add = action(_add)


# -- one embed --------------------------------------------------------------------------


def _lookup(admin: Admin) -> tuple[Embed, Provider] | None:
    key = admin.request.path_params.get("key", "")
    embed = admin.services.store.get_embed(key) if len(key) <= 300 else None
    provider = admin.services.registry.get(embed.provider) if embed else None
    return (embed, provider) if embed and provider else None


def _request_base_url(admin: Admin) -> str:
    url = admin.request.url
    return f"{url.scheme}://{url.netloc}"


def _detail(
    admin: Admin,
    embed: Embed,
    provider: Provider,
    *,
    error: Message | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    configured = admin.services.settings.public_url
    base = configured or _request_base_url(admin)
    context = {
        **_row(admin, embed),
        "provider": provider,
        # Without EMBEDGUARD_PUBLIC_URL the snippets name whatever address this admin
        # request came to (an internal host, a tunnel); the page says so next to them.
        "base_from_request": "" if configured else base,
        "iframe_snippet": iframe_snippet(base, provider, embed),
        "script_snippet": script_snippet(base, provider, embed),
        "embed_url": embed_url(base, provider, embed),
        "preview_src": preview_url(
            embed_url("", provider, embed), admin.services.signer, embed.key
        ),
        "frame_size": provider.frame_size(embed),
        "error": error,
        "form": form or {"title": embed.title_override, "description": embed.description_override},
        "max_title": MAX_TITLE,
        "max_description": MAX_DESCRIPTION,
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return admin.render("embed.html", context, status_code=status_code, frames_self=True)


@page
async def embed_detail(admin: Admin) -> Response:
    found = _lookup(admin)
    if found is None:
        return error_page(admin.request, 404)
    return _detail(admin, *found)


async def _edit(admin: Admin, form: FormData) -> Response:
    found = _lookup(admin)
    if found is None:
        return error_page(admin.request, 404)
    embed, provider = found
    title = form_text(form, "title", max_length=10 * MAX_TITLE)
    description = form_text(form, "description", max_length=10 * MAX_DESCRIPTION)
    entered = {"title": title or "", "description": description or ""}
    problem, status = _check_edit(title, description)
    poster = None
    if problem is None:
        problem, status, poster = await _uploaded_poster(admin, form.get("image"))
    if problem is not None:
        return _detail(admin, embed, provider, error=problem, form=entered, status_code=status)
    changed = replace(
        embed,
        title_override=clean_text(title, MAX_TITLE),
        description_override=clean_text(description, MAX_DESCRIPTION, multiline=True),
    )
    if poster is not None:
        changed = replace(changed, poster=poster.to_json(), poster_custom=True)
    try:
        revision = int(form_text(form, "revision", max_length=12) or "")
        saved = admin.services.store.save_embed(
            changed, actor=admin.user, expected_revision=revision
        )
    except (ValueError, StaleEdit):
        current = admin.services.store.get_embed(embed.key) or embed
        problem = message(
            N_(
                "Someone else changed this item in the meantime. Nothing was saved; the current "
                "state is shown below. Please make your changes again."
            ),
            "error",
        )
        return _detail(admin, current, provider, error=problem, form=entered, status_code=409)
    admin.flash(N_("Saved: %(title)s"), title=saved.display_title)
    return admin.redirect(admin_path(saved))


def _check_edit(title: str | None, description: str | None) -> tuple[Message | None, int]:
    if title is None or len(title.strip()) > MAX_TITLE:
        return message(TITLE_TOO_LONG, "error", n=MAX_TITLE), 400
    if description is None or len(description.strip()) > MAX_DESCRIPTION:
        return message(DESCRIPTION_TOO_LONG, "error", n=MAX_DESCRIPTION), 400
    return None, 200


async def _uploaded_poster(admin: Admin, upload: Any) -> tuple[Message | None, int, Poster | None]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, 200, None
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        return None, 200, None
    if len(data) > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        return (
            message(N_("The image file is too large (at most %(mb)s MB)."), "error", mb=limit),
            413,
            None,
        )
    try:
        poster = await anyio.to_thread.run_sync(admin.services.posters.ingest, data)
    except PosterError as error:
        return (
            message(
                N_(
                    "This file cannot be used as a preview image (%(reason)s). "
                    "Please upload a JPEG, PNG, WebP or GIF picture."
                ),
                "error",
                reason=str(error),
            ),
            400,
            None,
        )
    return None, 200, poster


edit = action(_edit, upload=True)


def _switch(enabled: bool) -> Any:
    async def switch(admin: Admin, form: FormData) -> Response:
        found = _lookup(admin)
        if found is None:
            return error_page(admin.request, 404)
        embed = admin.services.store.set_embed_enabled(found[0].key, enabled, actor=admin.user)
        if embed is not None:
            text = N_("Shown again: %(title)s") if enabled else N_("No longer shown: %(title)s")
            admin.flash(text, title=embed.display_title)
        return admin.redirect(_back(form, found[0]))

    switch.__name__ = "enable" if enabled else "disable"
    return action(switch)


def _back(form: FormData, embed: Embed) -> str:
    return "/admin/" if form.get("back") == "list" else admin_path(embed)


enable = _switch(True)
disable = _switch(False)


async def _refresh(admin: Admin, form: FormData) -> Response:
    found = _lookup(admin)
    if found is None:
        return error_page(admin.request, 404)
    embed = found[0]
    try:
        result = await allowlist.refresh(admin.services, embed.key, actor=admin.user)
    except allowlist.AllowlistError as error:
        admin.flash(
            N_("The provider no longer confirms this item; it is marked as gone: %(reason)s"),
            "error",
            reason=str(error),
        )
        return admin.redirect(admin_path(embed))
    admin.flash(N_("Refreshed: %(title)s"), title=result.embed.display_title)
    for warning in result.warnings:
        admin.flash(N_("Note: %(warning)s"), "warning", warning=warning)
    return admin.redirect(admin_path(result.embed))


refresh = action(_refresh)


@page
async def remove_form(admin: Admin) -> Response:
    found = _lookup(admin)
    if found is None:
        return error_page(admin.request, 404)
    return admin.render("remove.html", _row(admin, found[0]))


async def _remove(admin: Admin, form: FormData) -> Response:
    found = _lookup(admin)
    if found is None:
        return error_page(admin.request, 404)
    embed = found[0]
    admin.services.store.remove_embed(embed.key, actor=admin.user)
    admin.flash(N_("Removed: %(title)s"), title=embed.display_title)
    return admin.redirect("/admin/")


remove = action(_remove)
