import { describeSurveyStoreContract } from "./store-contract.ts";
import { pgliteBackend } from "./store-harness.ts";

describeSurveyStoreContract(pgliteBackend());
