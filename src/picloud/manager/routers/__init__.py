"""HTTP endpoints of the admin API, one module per resource; each is a thin wrapper over
`picloud.manager.services`."""
