from app.workspace.widget_keys import views

__all__ = ["views"]
