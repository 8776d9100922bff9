"""The hub's abuse limits: how many sign-in codes, texts and password tries, and what a
refused person is told (in Persian and English).

Counters live in ``mallnet.ratelimit`` (memory, or Redis shared by every hub instance).
Addresses are the real client's (``mallnet.client_address``): IPv6 counted per /64 and, with
larger limits, per /56 and /48; a 6to4 address as its IPv4 address.

Password tries are limited so that a stranger cannot lock the owner out:
- from one address at one account: ``PASSWORD_PAIR`` tries per 15 minutes and
  ``PASSWORD_PAIR_DAY`` a day (the right password forgives that address's wrong ones);
- from one address at any account: ``PASSWORD_ADDRESS`` tries per 15 minutes;
- at one account from anywhere: past ``PASSWORD_ACCOUNT`` wrong passwords in 15 minutes
  the account is under attack: an address that tried it wrongly in the last day is refused
  until the attack subsides, while an address with no wrong try still gets one, so the
  owner signs in from her own device and a botnet gets one guess per address a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerHour

from mallnet.client_address import limit_key, limit_keys
from mallnet.digits import integer_fa
from mallnet.ratelimit import Charge, Limiter, RateLimited, Rule, limiter_for

OTP_PER_PHONE = Rule.of("otp-phone", "3 per 10 minutes")
OTP_PER_ADDRESS = Rule.of("otp-address", "10 per 10 minutes")
# An IPv6 address is also counted under its /56 and /48, with larger limits (each holds
# many /64s). Each tier is told to the refused person as its narrowest rule is.
OTP_PER_NETWORK = (
    Rule.of("otp-address-56", "20 per 10 minutes"),
    Rule.of("otp-address-48", "40 per 10 minutes"),
)
# Tries at a sign-in code by anyone but the browser that asked for it (``people``).
CODE_TRY_ADDRESS = Rule.of("code-try-address", "20 per 10 minutes")
CODE_TRY_NETWORK = (
    Rule.of("code-try-address-56", "40 per 10 minutes"),
    Rule.of("code-try-address-48", "80 per 10 minutes"),
)
CODE_TRY_PHONE = Rule.of("code-try-phone", "10 per hour")
PASSWORD_PAIR = Rule.of("password-pair", "10 per 15 minutes")
PASSWORD_PAIR_DAY = Rule.of("password-pair-day", "30 per day")
PASSWORD_ADDRESS = Rule.of("password-address", "50 per 15 minutes")
PASSWORD_NETWORK = (
    Rule.of("password-address-56", "100 per 15 minutes"),
    Rule.of("password-address-48", "200 per 15 minutes"),
)
PASSWORD_ACCOUNT = Rule.of("password-account", "10 per 15 minutes")
# Wrong passwords from a browser the account signed in from before (a known device).
PASSWORD_DEVICE = Rule.of("password-device", "10 per 15 minutes")
# The one guess an address gets at an account under attack.
PASSWORD_ATTACK_PASS = Rule.of("password-attack-pass", "1 per day")

_MESSAGES: dict[str, tuple[str, str]] = {
    "otp-phone": (
        "برای این شماره کد زیادی درخواست شده است",
        "too many sign-in codes were asked for this number",
    ),
    "otp-address": (
        "از این نشانی کد زیادی درخواست شده است",
        "too many sign-in codes were asked from this address",
    ),
    "sms-budget": (
        "سقف پیامک‌های ساعتی مال‌نت پر شده است",
        "mallnet's hourly text-message budget is spent",
    ),
    "code-try-address": (
        "از این نشانی کد نادرست زیادی وارد شده است",
        "too many sign-in codes were tried from this address",
    ),
    "code-try-phone": (
        "برای این شماره کد نادرست زیادی وارد شده است؛ در همان دستگاهی که کد را خواسته‌اید وارد کنید",
        "too many codes were tried for this number; type the code on the device that asked for it",
    ),
    "password-pair": (
        "تلاش نادرست زیادی برای ورود به این حساب انجام شده است",
        "too many wrong sign-ins to this account",
    ),
    "password-pair-day": (
        "تلاش نادرست زیادی برای ورود به این حساب انجام شده است",
        "too many wrong sign-ins to this account",
    ),
    "password-address": (
        "از این نشانی تلاش ورود زیادی انجام شده است",
        "too many sign-in attempts from this address",
    ),
    "password-device": (
        "از این دستگاه گذرواژهٔ نادرست زیادی وارد شده است",
        "too many wrong passwords from this device",
    ),
    "password-account": (
        "این حساب زیر حملهٔ حدس گذرواژه است و این نشانی اخیراً گذرواژهٔ نادرست داده است",
        "this account is under a password-guessing attack and this address recently gave "
        "a wrong password",
    ),
}


_MESSAGES |= {
    wider.name: _MESSAGES[narrowest.name]
    for narrowest, tiers in (
        (OTP_PER_ADDRESS, OTP_PER_NETWORK),
        (CODE_TRY_ADDRESS, CODE_TRY_NETWORK),
        (PASSWORD_ADDRESS, PASSWORD_NETWORK),
    )
    for wider in tiers
}
# Texts are budgeted apart by who asks: anyone for a sign-in code, or an authenticated
# till for a redemption code (its shop has limits of its own, ``grants``): an anonymous
# flood of sign-in codes does not stop tills, nor a hostile shop the shoppers' sign-ins.
SIGN_IN_TEXTS = "sign-in"
REDEMPTION_TEXTS = "redemption"


def per_address(address: str, narrowest: Rule, wider: tuple[Rule, ...] = ()) -> list[Charge]:
    """Charges of ``address`` under ``narrowest`` (its IPv4 address or IPv6 /64) and, for
    IPv6, its wider networks under ``wider`` (``client_address.limit_keys``)."""
    rules = (narrowest, *wider)
    return [rule.on(key) for rule, key in zip(rules, limit_keys(address), strict=False)]


@dataclass(frozen=True)
class Limits:
    """What the hub's limited services need: the app's limiter and the SMS budget."""

    limiter: Limiter
    sms_budget_per_hour: int

    @classmethod
    def of(cls, state: Any) -> Limits:
        """The limits of a Starlette app (``state`` holds its ``settings``)."""
        return cls(limiter_for(state), state.settings.sms_budget_per_hour)

    @classmethod
    def in_memory(cls, sms_budget_per_hour: int = 1000) -> Limits:
        """Counters of their own in this process's memory (tools and tests)."""
        return cls(Limiter.from_url(None), sms_budget_per_hour)


def message(refused: RateLimited) -> str:
    """What the refused person reads: Persian, then English, with when to try again."""
    fa, en = _MESSAGES.get(refused.rule.name, ("درخواست زیادی رسیده است", "too many requests"))
    minutes = max(1, -(-refused.retry_after_s // 60))
    return (
        f"{fa}؛ {integer_fa(minutes)} دقیقهٔ دیگر دوباره امتحان کنید.\n"
        f"{en}; try again in {minutes} minute{'s' if minutes > 1 else ''}."
    )


def sms_budget(per_hour: int) -> Rule:
    """The texts the hub sends on someone's request, across all phones, per hour: a
    ceiling against SMS pumping, one for each kind of asker (``SIGN_IN_TEXTS``,
    ``REDEMPTION_TEXTS``)."""
    return Rule("sms-budget", RateLimitItemPerHour(per_hour))


async def charge_sign_in_code(limits: Limits, phone: str, address: str) -> None:
    """Count one sign-in code texted to ``phone`` for ``address`` (the asker's own budget
    first), or raise ``RateLimited``."""
    await limits.limiter.acquire(
        *per_address(address, OTP_PER_ADDRESS, OTP_PER_NETWORK),
        OTP_PER_PHONE.on(phone),
        sms_budget(limits.sms_budget_per_hour).on(SIGN_IN_TEXTS),
    )


async def charge_redemption_text(limits: Limits) -> None:
    """Count one redemption code texted at a till's request against the hourly budget of
    such texts, or raise ``RateLimited``."""
    await limits.limiter.acquire(sms_budget(limits.sms_budget_per_hour).on(REDEMPTION_TEXTS))


async def charge_code_guess(limits: Limits, phone: str, address: str) -> None:
    """Count one try at a sign-in code by someone other than the browser that asked for
    it, per address and per phone, or raise ``RateLimited``. The asking browser's own tries
    are never counted here: a stranger spending these limits cannot lock the shopper out."""
    await limits.limiter.acquire(
        *per_address(address, CODE_TRY_ADDRESS, CODE_TRY_NETWORK),
        CODE_TRY_PHONE.on(phone),
    )


class PasswordGuard:
    """The password limits of one try: ``before`` checking the password (raises
    ``RateLimited``), then ``failed`` or ``succeeded``.

    ``device``: the id of a known device of this account (a browser it signed in from
    with the right password, proven by a signed cookie: ``hub.web.devices``), or None.
    A known device is limited on its own (``PASSWORD_DEVICE``) and exempt from the limits
    of its address and from the under-attack refusal, so a stranger sharing the owner's
    address (an office NAT) cannot lock her out (OWASP's device cookies); a stolen cookie
    gives ten guesses per 15 minutes."""

    def __init__(
        self, limiter: Limiter, username: str, address: str, device: str | None = None
    ) -> None:
        self.limiter = limiter
        self.device = None if device is None else PASSWORD_DEVICE.on(username, device)
        key = limit_key(address)
        self.account = PASSWORD_ACCOUNT.on(username)
        self.pair = PASSWORD_PAIR.on(username, key)
        self.pair_day = PASSWORD_PAIR_DAY.on(username, key)
        self.attack_pass = PASSWORD_ATTACK_PASS.on(username, key)
        self.address = per_address(address, PASSWORD_ADDRESS, PASSWORD_NETWORK)

    async def before(self) -> None:
        if self.device is not None:
            await self.limiter.acquire(self.device)
            return
        # Under attack: one guess per address, granted by a single atomic hit. Reading
        # "no try from here yet" and counting the try in two steps let a concurrent burst
        # from a fresh address all read before the first was counted.
        if not await self.limiter.allows(self.account) and (
            await self.limiter.used(self.pair_day) > 0
            or not await self.limiter.hit(self.attack_pass)
        ):
            raise RateLimited(PASSWORD_ACCOUNT, await self.limiter.retry_after_s(self.account))
        # Counted before the (slow) check, atomically: a burst of guesses cannot all slip
        # in before the first is counted. The address's own budgets first.
        await self.limiter.acquire(self.pair, self.pair_day, *self.address)

    async def failed(self) -> None:
        await self.limiter.hit(self.account)  # a full window refills as guesses keep coming

    async def succeeded(self) -> None:
        if self.device is not None:
            await self.limiter.forget(self.device)
            return
        await self.limiter.forget(self.pair)
        await self.limiter.forget(self.pair_day)
        await self.limiter.forget(self.attack_pass)
