"""A customer's whole path through the portal in a real browser (Debian chromium, headless,
driven by chromedriver through Selenium), at phone size (390 x 844):

register -> the code from the SMTP server's messages -> confirm -> the list -> select a
certificate -> send the identity code by e-mail -> enter it -> the encrypted ZIP is downloaded.

Usage: portal_flow.py BASE_URL EMAIL PASSWORD MESSAGES_DIR DOWNLOAD_DIR SCREENSHOT_DIR NUMBER
Prints one JSON line: {"code": the download code, "zip": path of the downloaded file}.
"""
import glob
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, email, password, messages, downloads, shots, number = sys.argv[1:8]
seen = set()


def next_code(to, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in sorted(glob.glob(os.path.join(messages, "*.json"))):
            if f in seen:
                continue
            with open(f, encoding="utf-8") as fh:
                m = json.load(fh)
            if to.lower() in [r.lower() for r in m["rcpt_tos"]]:
                seen.add(f)
                found = re.search(r"\d{6,}", m["body"])
                if found:
                    return found.group(0)
        time.sleep(0.1)
    raise SystemExit("no code mailed to %s" % to)


def wait_id(element_id, timeout=30):
    """The element once the page a click is loading has it (a click does not wait for the
    answer; on a loaded machine the old page is still there for a while)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = driver.find_elements(By.ID, element_id)
        if found:
            return found[0]
        time.sleep(0.05)
    raise SystemExit("no #%s on %s" % (element_id, driver.page_source))


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=390,844",
          "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"]:
    options.add_argument(a)
options.add_experimental_option("prefs", {
    "download.default_directory": downloads,
    "download.prompt_for_download": False,
})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    # A phone's viewport (headless windows are at least 500 px wide).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    driver.get(base + "/portal/register")
    driver.save_screenshot(os.path.join(shots, "register.png"))
    driver.find_element(By.ID, "name").send_keys("张三")
    driver.find_element(By.ID, "address").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "register-submit").click()
    code = next_code(email)
    wait_id("code").send_keys(code)
    driver.find_element(By.ID, "confirm-submit").click()
    # The list, after the redirect.
    item = wait_id("c-" + number)
    driver.save_screenshot(os.path.join(shots, "list.png"))
    item.find_element(By.NAME, "id").click()
    driver.find_element(By.ID, "download-submit").click()
    driver.save_screenshot(os.path.join(shots, "check.png"))
    # Send the code by e-mail (the button that names the masked address).
    deadline = time.time() + 30
    buttons = []
    while not buttons and time.time() < deadline:
        buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button[type=submit]")
                   if "@" in b.text]
        if not buttons:
            time.sleep(0.05)
    if not buttons:
        raise SystemExit("no e-mail button on the identity check page: " + driver.page_source)
    buttons[0].click()
    code = next_code(email)
    wait_id("code").send_keys(code)
    driver.save_screenshot(os.path.join(shots, "code.png"))
    driver.find_element(By.ID, "download-confirm-submit").click()
    deadline = time.time() + 30
    zips = []
    while time.time() < deadline:
        zips = [z for z in glob.glob(os.path.join(downloads, "*.zip"))]
        if zips and not glob.glob(os.path.join(downloads, "*.crdownload")):
            break
        time.sleep(0.1)
    if not zips:
        raise SystemExit("no download arrived: " + driver.page_source)
    print(json.dumps({"code": code, "zip": zips[0]}))
finally:
    driver.quit()
