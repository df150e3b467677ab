#!/usr/bin/python3
"""The web pages in a real browser: headless Chromium driven through WebDriver (Debian's python3-selenium and
chromium-driver), against a running Gateway over TLS (scripts/check-pages starts the real processes).

    /usr/bin/python3 Tests/Browser/test_pages.py --base-url https://127.0.0.1:8663 [--screenshots DIR]

Each test prints one line in Swift Testing's format ("✔ Test NAME passed after S seconds." or "✘ Test NAME failed
after S seconds."), which scripts/test counts in its summary. The tests are one person's visit in order (later ones
use the accounts and tweets of earlier ones); a test whose precondition failed fails too, none is skipped. Exits 1 if
any test failed.
"""

import argparse
import os
import secrets
import signal
import ssl
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "correct horse battery"
WIDTHS = (375, 1280)


def new_browser(javascript=True, width=1280):
    """A fresh headless Chromium (its own cookies) that accepts the test certificate."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--disable-gpu", "--force-device-scale-factor=1", f"--window-size={width},900"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


class Visit:
    """The state the tests share: the browsers and the accounts and tweets made along the way."""

    def __init__(self, base_url, screenshots, timeline_pid_file):
        self.base = base_url.rstrip("/")
        self.screenshots = screenshots
        self.timeline_pid_file = timeline_pid_file
        suffix = secrets.token_hex(3)
        self.alice = f"alice_{suffix}"
        self.bob = f"bob_{suffix}"
        self.carol = f"carol_{suffix}"
        self.browser = new_browser()
        self.bob_browser = None
        self.no_js_browser = None
        self.bob_tweet_id = None
        self.reply_path = None

    def close(self):
        for driver in (self.browser, self.bob_browser, self.no_js_browser):
            if driver is not None:
                driver.quit()

    def open(self, path, driver=None):
        driver = driver or self.browser
        driver.get(self.base + path)
        return driver

    def shoot(self, name, driver=None):
        """Screenshots of the current page at both widths (when asked for them)."""
        if not self.screenshots:
            return
        driver = driver or self.browser
        os.makedirs(self.screenshots, exist_ok=True)
        for width in WIDTHS:
            driver.set_window_size(width, 900)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(max(int(height), 600), 1800))
            driver.save_screenshot(os.path.join(self.screenshots, f"{name}-{width}.png"))
        driver.set_window_size(1280, 900)


def fill(driver, fields):
    for name, value in fields.items():
        element = driver.find_element(By.CSS_SELECTOR, f"main form [name='{name}']")
        element.clear()
        element.send_keys(value)


def text_of(driver, selector="main"):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def wait_for(driver, condition, seconds=10, message=""):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(message or "timed out")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def sign_up(visit, driver, username):
    visit.open("/signup", driver)
    fill(driver, {"username": username, "password": PASSWORD})
    press(driver, "main form button[type=submit]")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Home", message="sign-up did not land on Home")


def submit_and_wait(driver, button, message):
    """Clicks a form's button and waits until the next page has replaced this one."""
    button.click()
    wait_for(driver, page_replaced(button), message=message)


def page_replaced(element):
    """Whether `element`'s page is gone. While a navigation commits, Chromium may answer a probe of the old page's
    element with an inspector error rather than a stale reference; both mean that the old page is gone."""
    def condition(_driver):
        try:
            element.is_enabled()
        except WebDriverException:  # a stale reference, or the inspector's error
            return True
        return False
    return condition


def press(driver, selector):
    """Presses the button (or link) that `selector` finds and waits for the page it loads."""
    submit_and_wait(driver, driver.find_element(By.CSS_SELECTOR, selector), f"pressing {selector} loaded no page")


def post_tweet(visit, driver, text):
    visit.open("/", driver)
    driver.find_element(By.ID, "text").send_keys(text)
    press(driver, "form.compose button[type=submit]")
    check(driver.current_url.rstrip("/") == visit.base, f"posting went to {driver.current_url}, not home")


# The tests, in the order of the visit.

def test_public_page_and_forms(visit):
    driver = visit.open("/")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Tweeter", "the visitor's page is not the public page")
    for field in ("signin-username", "signin-password", "signup-username", "signup-password"):
        label = driver.find_element(By.CSS_SELECTOR, f"label[for='{field}']")
        check(label.text, f"{field} has no label")


def test_sign_up_errors_keep_values(visit):
    driver = visit.open("/signup")
    fill(driver, {"username": "no spaces!", "password": PASSWORD})
    press(driver, "main form button[type=submit]")
    error = wait_for(driver, lambda d: d.find_element(By.ID, "signup-username-error"))
    check("letters" in error.text, f"unexpected error text {error.text!r}")
    field = driver.find_element(By.ID, "signup-username")
    check(field.get_attribute("value") == "no spaces!", "the submitted username was not kept")
    check(field.get_attribute("aria-invalid") == "true", "the field is not marked invalid")
    visit.shoot("signup-error")


def test_sign_up(visit):
    sign_up(visit, visit.browser, visit.alice)
    nav = text_of(visit.browser, "header.site nav")
    check(f"@{visit.alice}" in nav and "Sign out" in nav, f"the navigation does not show the user: {nav!r}")


def test_sign_out_and_sign_in(visit):
    driver = visit.browser
    press(driver, "header.site form[action='/signout'] button")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Tweeter", message="sign-out did not go home")
    check(driver.get_cookie("__Host-tweeter_session") is None, "the session cookie is still there")
    visit.open("/signin")
    fill(driver, {"username": visit.alice, "password": "wrong password"})
    press(driver, "main form button[type=submit]")
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".form-error"), message="no error for a wrong password")
    fill(driver, {"username": visit.alice, "password": PASSWORD})
    press(driver, "main form button[type=submit]")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Home", message="sign-in did not go Home")
    cookie = driver.get_cookie("__Host-tweeter_session")
    check(cookie and cookie["httpOnly"] and cookie["secure"] and cookie.get("sameSite") == "Lax",
          f"the session cookie is not HttpOnly, Secure and Lax: {cookie}")


def test_tweet_shows_on_profile(visit):
    post_tweet(visit, visit.browser, "My first tweet from a real browser")
    driver = visit.open(f"/@{visit.alice}")
    tweet = driver.find_element(By.CSS_SELECTOR, "ol.tweets li .text")
    check(tweet.text == "My first tweet from a real browser", f"the profile shows {tweet.text!r}")
    time_element = driver.find_element(By.CSS_SELECTOR, "ol.tweets li time")
    check(time_element.get_attribute("datetime").endswith("Z"), "no machine-readable time")
    check(time_element.get_attribute("title").endswith("UTC"), "no exact time in the title")
    check(time_element.text in ("now",) or time_element.text.endswith("s"), f"not a relative time: {time_element.text}")


def test_xss_attempt_stays_text(visit):
    attack = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
    post_tweet(visit, visit.browser, attack)
    driver = visit.open(f"/@{visit.alice}")
    first = driver.find_element(By.CSS_SELECTOR, "ol.tweets li .text")
    check(first.text == attack, f"the tweet is not shown as its text: {first.text!r}")
    check(not first.find_elements(By.CSS_SELECTOR, "img, script"), "the tweet became markup")
    check(driver.execute_script("return window.__xss === undefined"), "the tweet's script ran")


def test_follow_and_see_new_tweet_on_home(visit):
    visit.bob_browser = new_browser()
    sign_up(visit, visit.bob_browser, visit.bob)
    driver = visit.open(f"/@{visit.bob}")
    press(driver, f"form[action='/@{visit.bob}/follow'] button")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"form[action='/@{visit.bob}/unfollow']"),
             message="no Unfollow button after following")
    check("1 follower" in text_of(driver, ".counts").replace("\n", " "), "the follower count did not change")
    post_tweet(visit, visit.bob_browser, "Bob says hello to his followers")
    wait_for(visit.browser, lambda _: "Bob says hello to his followers" in text_of(visit.open("/")),
             message="Bob's tweet did not reach Alice's home within 10 s")
    link = visit.browser.find_element(By.XPATH, "//ol[@class='tweets']//article[.//p[@class='text' and "
                                                "text()='Bob says hello to his followers']]//a[@class='when']")
    visit.bob_tweet_id = link.get_attribute("href").rsplit("/", 1)[-1]
    visit.shoot("home")


def test_find_a_user(visit):
    driver = visit.open("/")
    driver.find_element(By.ID, "find-username").send_keys(visit.bob)
    press(driver, "form.find button[type=submit]")
    check(driver.current_url.endswith(f"/@{visit.bob}"), f"finding {visit.bob} went to {driver.current_url}")


def test_new_tweets_notice(visit):
    driver = visit.open("/")
    post_tweet(visit, visit.bob_browser, "Bob again, while Alice reads")
    wait_for(driver, lambda d: d.find_element(By.ID, "new-tweets").is_displayed(), seconds=40,
             message="the new-tweets notice did not appear within 40 s")
    check("new tweet" in driver.find_element(By.ID, "new-tweets").text, "the notice does not say what is new")


def test_reply(visit):
    check(visit.bob_tweet_id, "no tweet of Bob's to reply to (an earlier test failed)")
    visit.open(f"/@{visit.bob}")
    visit.shoot("profile")
    driver = visit.open(f"/tweets/{visit.bob_tweet_id}")
    driver.find_element(By.ID, "text").send_keys("Hello back, Bob")
    press(driver, "form.compose button[type=submit]")
    wait_for(driver, lambda d: "/tweets/" in d.current_url and not d.current_url.endswith(visit.bob_tweet_id),
             message="the reply did not open its page")
    visit.reply_path = "/" + driver.current_url.split("/", 3)[3]
    parent = text_of(driver, "section.parent")
    check("Bob says hello to his followers" in parent, "the reply's page does not show its parent")
    check("Hello back, Bob" in text_of(driver), "the reply's page does not show the reply")
    visit.shoot("tweet")


def test_delete(visit):
    check(visit.reply_path, "no reply to delete (an earlier test failed)")
    driver = visit.open(visit.reply_path)
    own = driver.find_elements(By.CSS_SELECTOR, "article.tweet form[action$='/delete'] button")
    check(len(own) == 1, f"expected one delete button (the reply's), found {len(own)}")
    submit_and_wait(driver, own[0], "deleting did not load a page")
    wait_for(driver, lambda d: d.current_url.endswith(f"/@{visit.alice}"), message="deleting did not go to the profile")
    check("Hello back, Bob" not in text_of(driver), "the deleted reply is still on the profile")
    visit.open(visit.reply_path)
    check(driver.find_element(By.TAG_NAME, "h1").text == "Page not found", "the deleted reply's page is not a 404")


def test_older_pages(visit):
    for number in range(1, 22):
        post_tweet(visit, visit.browser, f"Counting tweet {number}")
    driver = visit.open(f"/@{visit.alice}")
    first_page = tweet_texts(driver)
    expected = [f"Counting tweet {number}" for number in range(21, 1, -1)]
    check(first_page == expected, f"the first page is not the newest 20: {first_page}")
    submit_and_wait(driver, driver.find_element(By.LINK_TEXT, "Older"), "Older did not load a page")
    wait_for(driver, lambda d: "max_id=" in d.current_url, message="Older did not page on max_id")
    older = tweet_texts(driver)
    check(older and older[0] == "Counting tweet 1", f"the older page does not go on where the first ended: {older}")


def tweet_texts(driver):
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, "ol.tweets .text")]


def test_form_without_csrf_token_is_refused(visit):
    driver = visit.open("/")
    driver.execute_script("document.querySelector('form.compose input[name=csrf]').remove()")
    driver.find_element(By.ID, "text").send_keys("A forged tweet")
    press(driver, "form.compose button[type=submit]")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "This form has expired",
             message="a form without its CSRF token was not refused")
    check("A forged tweet" not in text_of(visit.open(f"/@{visit.alice}")), "the forged tweet was posted")


def test_works_without_javascript(visit):
    visit.no_js_browser = new_browser(javascript=False)
    driver = visit.no_js_browser
    sign_up(visit, driver, visit.carol)
    post_tweet(visit, driver, "Carol has JavaScript off")
    check("Carol has JavaScript off" in text_of(visit.open(f"/@{visit.carol}", driver)), "the tweet is not shown")
    visit.open("/", driver)
    check(not driver.find_element(By.ID, "new-tweets").is_displayed(), "the new-tweets notice shows without JavaScript")


def test_pages_send_security_headers(visit):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(visit.base + "/", context=context, timeout=10) as response:
        policy = response.headers.get("Content-Security-Policy", "")
        check("script-src 'self'" in policy and "unsafe-inline" not in policy, f"weak policy {policy!r}")
        check(response.headers.get("X-Frame-Options") == "DENY", "pages can be framed")


def test_friendly_not_found(visit):
    driver = visit.open("/@nobody_here_0")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Page not found", "no friendly 404")
    check("Traceback" not in driver.page_source and "Error" not in driver.title, "the 404 leaks internals")
    visit.shoot("not-found")


def test_readable_at_375_px(visit):
    driver = visit.browser
    driver.set_window_size(375, 800)
    try:
        for path in ("/", f"/@{visit.alice}", "/signin"):
            visit.open(path)
            width = driver.execute_script("return document.documentElement.scrollWidth")
            check(width <= 375, f"{path} is {width} px wide at 375 px")
    finally:
        driver.set_window_size(1280, 900)


def test_keyboard_reaches_the_form(visit):
    driver = visit.open("/")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    check(driver.switch_to.active_element.text == "Skip to content", "the skip link is not first")
    seen = []
    for _ in range(12):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        seen.append(driver.switch_to.active_element.get_attribute("id") or driver.switch_to.active_element.text)
    check("text" in seen, f"tabbing never reached the compose box: {seen}")
    levels = [int(h.tag_name[1]) for h in driver.find_elements(By.CSS_SELECTOR, "h1, h2, h3")]
    check(levels and levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])),
          f"headings skip levels: {levels}")


def test_sign_out(visit):
    driver = visit.open("/")
    press(driver, "header.site form[action='/signout'] button")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Tweeter", message="sign-out did not go home")
    check(driver.get_cookie("__Host-tweeter_session") is None, "the session cookie is still there")
    visit.shoot("public")
    visit.open("/signin")
    visit.shoot("signin")


def test_fail_whale_when_timelines_are_down(visit):
    check(visit.timeline_pid_file, "no --timeline-pid-file: this test needs to stop the TimelineService")
    with open(visit.timeline_pid_file) as pid_file:
        os.kill(int(pid_file.read().strip()), signal.SIGTERM)
    driver = visit.browser
    wait_for(driver, lambda _: visit.open("/").find_elements(By.CSS_SELECTOR, "svg.whale"), seconds=20,
             message="no fail whale within 20 s of stopping the TimelineService")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Tweeter is over capacity", "the 503 page has no heading")
    check("try again in" in text_of(driver), "the 503 page does not say when to retry")
    visit.shoot("unavailable")


TESTS = [
    test_public_page_and_forms, test_sign_up_errors_keep_values, test_sign_up, test_sign_out_and_sign_in,
    test_tweet_shows_on_profile, test_xss_attempt_stays_text, test_follow_and_see_new_tweet_on_home,
    test_find_a_user, test_new_tweets_notice, test_reply, test_delete, test_older_pages,
    test_form_without_csrf_token_is_refused, test_works_without_javascript, test_pages_send_security_headers,
    test_friendly_not_found, test_readable_at_375_px, test_keyboard_reaches_the_form, test_sign_out,
    test_fail_whale_when_timelines_are_down,
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--screenshots", help="write PNG screenshots of the main pages here")
    parser.add_argument("--timeline-pid-file", help="the TimelineService's PID file: the last test stops it")
    arguments = parser.parse_args()
    visit = Visit(arguments.base_url, arguments.screenshots, arguments.timeline_pid_file)
    failed = 0
    try:
        for test in TESTS:
            name = test.__name__.removeprefix("test_")
            started = time.monotonic()
            try:
                test(visit)
            except Exception as error:  # an assertion, or the browser's own error: either fails the test
                failed += 1
                print(f"✘ Test {name} failed after {time.monotonic() - started:.3f} seconds: {error}", flush=True)
                traceback.print_exc(file=sys.stderr)
            else:
                print(f"✔ Test {name} passed after {time.monotonic() - started:.3f} seconds.", flush=True)
    finally:
        visit.close()
    print(f"browser tests: {len(TESTS) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
