from app.workspace.cadence import views

__all__ = ["views"]
