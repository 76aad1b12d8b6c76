/**
 * The channel contract (channel-contract.ts) for every channel in channels/index.ts and the fake
 * one, each against the memory and the Redis ChannelStorage.
 */
import { describe, expect, it } from "vitest";
import { CHANNEL_MODULES } from "../../channels/index.ts";
import { channelContract } from "./channel-contract.ts";
import { fakeDriver, teamsDriver, telegramDriver, webchatDriver, whatsappCloudDriver, whatsappWebDriver } from "./contract-drivers.ts";

const DRIVERS = [webchatDriver, telegramDriver, teamsDriver, whatsappCloudDriver, whatsappWebDriver, fakeDriver];

describe("the channel contract suite", () => {
  it("has a driver for every channel module", () => {
    const driven = DRIVERS.map((d) => d().module.name);
    for (const m of CHANNEL_MODULES) expect(driven).toContain(m.name);
  });
});

for (const driver of DRIVERS) channelContract(driver);
