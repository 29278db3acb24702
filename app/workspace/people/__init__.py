from app.workspace.people import views

__all__ = ["views"]
