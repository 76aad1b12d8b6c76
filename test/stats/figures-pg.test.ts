import { describeFiguresSuite } from "./figures-suite.ts";
import { pgBackend } from "./store-harness.ts";

describeFiguresSuite(pgBackend());
