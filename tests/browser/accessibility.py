"""Accessibility checks run inside Chromium: axe-core, and the checkable rules of the elder-friendly web guideline.

axe-core is the axe.min.js the axe-playwright-python package ships (a dev dependency); it is evaluated in the page
through the DevTools protocol, which the pages' Content-Security-Policy (no scripts at all) does not govern.

The checklist follows 互联网网站适老化通用设计规范 (the MIIT guideline for elder-friendly websites) where a rule can
be measured in a browser: large type, high contrast, generous line spacing, big tap targets, no pop-ups, floating
windows or auto-playing content, and a clearly visible keyboard focus.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.sync_api import Page

BLOCKING_IMPACTS = ("serious", "critical")
MIN_TEXT_PX = 18.0
"""The guideline's large type: body text of at least 18 px."""
MIN_LINE_HEIGHT = 1.5
MIN_TARGET_PX = 44.0
"""Links, buttons and fields at least this tall (WCAG 2.5.5; the guideline asks for large click areas)."""
TARGETS = (
    "a.chip, .button-primary, .button-secondary, button, input:not([type=hidden]), summary, .facet-link, "
    ".pager a, .sort-link, .back a, .result-title a, .also-on a, a.tag, .site-name"
)
MAX_FOCUS_STEPS = 60


@cache
def _axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page, *, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands: every rule it runs by default and the target size, or `rules`."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    options: dict[str, Any] = {
        "resultTypes": ["violations"],
        "rules": {"target-size": {"enabled": True}},
    }
    if rules:
        options = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": rules}}
    found: list[dict[str, Any]] = page.evaluate(
        """async (options) => (await axe.run(document, options)).violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + (n.failureSummary || ''))}))""",
        options,
    )
    return found


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical ones."""
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def elder_checklist(page: Page, *, phone: bool) -> dict[str, list[str]]:
    """Each checkable rule of the guideline -> what breaks it on the page (an empty list where it holds)."""
    return {
        "大字号：正文不小于 18 像素": _small_text(page),
        "行距：不小于字号的 1.5 倍": _tight_lines(page),
        "高对比度：文字与背景对比度达到 7:1（WCAG AAA）": [
            f"{v['id']}: {v['nodes']}" for v in axe_violations(page, rules=["color-contrast-enhanced"])
        ],
        "大点击区域：链接和按钮不低于 44 像素": _small_targets(page),
        "无弹窗、无浮动窗口": _pop_ups(page),
        "无自动播放、无闪动内容": _moving(page),
        "焦点清晰：键盘焦点有明显的框": _invisible_focus(page),
        "手机上不左右滚动": _sideways(page) if phone else [],
        "页面语言为中文": [] if page.evaluate("document.documentElement.lang") == "zh-CN" else ["lang"],
    }


def _small_text(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """(min) => {
             const small = [];
             const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               const el = node.parentElement;
               if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
               if (el.closest('.visually-hidden, script, style')) continue;
               const size = parseFloat(getComputedStyle(el).fontSize);
               const text = node.textContent.trim().slice(0, 20);
               if (size < min) small.push(`${el.tagName}.${el.className} ${size}px: ${text}`);
             }
             return small;
           }""",
        MIN_TEXT_PX,
    )
    return found


def _tight_lines(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """(min) => [...document.querySelectorAll('p, li, dd')]
             .filter(e => e.getClientRects().length && e.textContent.trim())
             .filter(e => { const s = getComputedStyle(e); const lh = parseFloat(s.lineHeight);
                            return !isNaN(lh) && lh / parseFloat(s.fontSize) < min; })
             .map(e => `${e.tagName}.${e.className}`)""",
        MIN_LINE_HEIGHT,
    )
    return found


def _small_targets(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """([sel, min]) => [...document.querySelectorAll(sel)]
             .filter(e => e.getClientRects().length)
             .filter(e => e.getBoundingClientRect().height < min)
             .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().height.toFixed(1)}px`)""",
        [TARGETS, MIN_TARGET_PX],
    )
    return found


def _pop_ups(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """() => {
             const windows = 'dialog, [role=dialog], [role=alertdialog], a[target], form[target]';
             const bad = [...document.querySelectorAll(windows)].map(e => e.outerHTML.slice(0, 80));
             for (const e of document.querySelectorAll('body *')) {
               const position = getComputedStyle(e).position;
               if ((position === 'fixed' || position === 'sticky') && e.getClientRects().length) {
                 bad.push(`floating ${e.tagName}.${e.className}`);
               }
             }
             return bad;
           }"""
    )
    return found


def _moving(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
                 'video, audio, marquee, blink, iframe, embed, object, meta[http-equiv=refresh i], [autoplay]')]
               .map(e => e.outerHTML.slice(0, 80))
               .concat(document.getAnimations().map(a => `animation ${a.animationName || a.id || ''}`))"""
    )
    return found


def _invisible_focus(page: Page) -> list[str]:
    """Tab through the page: every element that takes the focus shows an outline at least 2 px wide."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    problems: list[str] = []
    seen: set[str] = set()
    for _ in range(MAX_FOCUS_STEPS):
        page.keyboard.press("Tab")
        state = page.evaluate(
            """() => { const e = document.activeElement; if (!e || e === document.body) return null;
                       const s = getComputedStyle(e);
                       const width = parseFloat(s.outlineWidth);
                       return {id: e.outerHTML.slice(0, 60), style: s.outlineStyle, width: width}; }"""
        )
        if state is None or state["id"] in seen:
            break
        seen.add(state["id"])
        if state["style"] == "none" or state["width"] < 2:
            problems.append(f"{state['id']} outline {state['style']} {state['width']}px")
    if not seen:
        problems.append("nothing takes the keyboard focus")
    return problems


def _sideways(page: Page) -> list[str]:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    return [f"{overflow}px wider than the screen"] if overflow > 0 else []
