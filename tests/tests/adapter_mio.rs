//! pigeon-mio's `MioDriver` (pigeon-std's `Driver` waiting in `mio::Poll`) over real loopback
//! UDP: the same checks as pigeon-std's own driver (`pigeon_tests::fixtures::blocking`).

pigeon_tests::blocking_driver_tests!(pigeon_mio::MioWait);
