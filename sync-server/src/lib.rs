//! The sync server: the authority over every record a device pushes.
