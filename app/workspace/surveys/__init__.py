from app.workspace.surveys import email, views

__all__ = ["email", "views"]
