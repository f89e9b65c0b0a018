"""What the create-credentials screens share.

The flow is create → review → apply → result, each reached through the app
(`open_review`, `open_apply`, `open_result`). Leaving it (`app.close_create_flow()`) pops
every one of those screens at once, so a person lands back where they started (the bucket or
account view); `app.return_to_create_form()` goes back to the form after a failed apply.
"""

from __future__ import annotations

from s3cred_tui.ui.base import AwsScreen


class CreateFlowScreen(AwsScreen[None]):
    """Base of every screen in the create flow: how the app knows which screens to pop."""
