"""Serving a document's original file by its document id: only a file the index read from
inside the corpus folder, always as a download the browser never renders, behind the app's login."""
from __future__ import annotations

import gradio as gr
from fastapi import Depends, HTTPException
from fastapi.responses import FileResponse

from careqa.assistant import Assistant
from careqa.errors import CareqaError

ROUTE = "/careqa/original/{doc_id:path}"
LOGIN_CHECK = "/gradio_api/login_check"  # Gradio's own check of the session's login


def endpoint(routes: list, path: str):
    """The function behind `path` among the routes, looking inside included routers too."""
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "app", None)
        if getattr(route, "path", None) == path and hasattr(route, "endpoint"):
            return route.endpoint
        if hasattr(inner, "routes"):
            found = endpoint(inner.routes, path)
            if found is not None:
                return found
    return None


def add_route(app: gr.Blocks, assistant: Assistant) -> None:
    """Add the download route to a launched app, guarded by the same login check as Gradio's
    own routes (the app refuses to start if that check cannot be found)."""
    server = app.server_app
    login = endpoint(server.routes, LOGIN_CHECK)
    if login is None:
        raise RuntimeError(f"Gradio's {LOGIN_CHECK} route is missing: cannot guard original-file downloads")

    def original(doc_id: str) -> FileResponse:
        try:
            path = assistant.original_file(doc_id)
        except CareqaError:
            raise HTTPException(status_code=404, detail="no such document in the index") from None
        return FileResponse(path, filename=path.name, media_type="application/octet-stream",
                            content_disposition_type="attachment",
                            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                                     "Cache-Control": "no-store"})

    server.add_api_route(ROUTE, original, methods=["GET"], dependencies=[Depends(login)],
                         include_in_schema=False)
