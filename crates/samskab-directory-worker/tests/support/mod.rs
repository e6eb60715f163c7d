//! What both test files of the directory worker share: the projection under test and the actor
//! its events are recorded under. The helpers are `samskab_testkit::projection`'s.

use samskab_directory_worker::DirectoryProjection;
use samskab_testkit::projection::ReadModelTest;

pub const ACTOR: &str = "user:sagsbehandler-1";

pub const DIRECTORY: ReadModelTest<DirectoryProjection> =
    ReadModelTest::new(DirectoryProjection, ACTOR);
