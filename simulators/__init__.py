"""Stand-ins for systems that cannot run here, each speaking its real protocol on a real socket."""
