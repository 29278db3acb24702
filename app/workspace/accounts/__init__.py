from app.workspace.accounts import views

__all__ = ["views"]
