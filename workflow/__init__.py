"""The account-opening workflow, signing (SM2/SM3/SM4) and cost. Calls model endpoints over HTTP or
Serve handles; never imports :mod:`models`."""
