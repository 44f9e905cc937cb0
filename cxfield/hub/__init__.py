"""The team hub: a FastAPI front end that laptops sync with (see ``app.create_app``).

Only this package imports fastapi, starlette and uvicorn; importing ``cxfield.hub`` itself
pulls in none of them, so the CLI can load the hub's account tools without the web stack.
"""
