"""The staff's whole path through the console in a real browser (Debian chromium, headless,
chromedriver through Selenium), by clicking:

administrator (password + TOTP) adds an operator, an approver and an auditor -> the operator
uploads a content JSON, looks at its preview (the pages marked 预览 未盖章) and seals it,
revises it the same way, proposes the disposal of the revision -> the
approver (password + TOTP read from the page that created it) approves it -> the auditor
checks the audit chain.

Usage: console_flow.py BASE ADMIN_NAME ADMIN_SECRET_BASE32 PASSWORD CONTENT REVISED SHOTS
Prints one JSON line: {"issued": number, "revised": number, "audit": text of the result}.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, admin, admin_secret, password, content, revised, shots = sys.argv[1:8]


def totp(secret_b32, step_offset=0):
    """RFC 6238, SHA1, 30 s, 6 digits (an independent implementation: Python's hmac)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int(time.time()) // 30 + step_offset
    h = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--no-first-run", "--disable-background-networking"]:
    options.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                       {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})


def login(name, code=""):
    driver.get(base + "/console/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    if code:
        driver.find_element(By.ID, "totp").send_keys(code)
    driver.find_element(By.ID, "login-submit").click()
    deadline = time.time() + 10
    while time.time() < deadline:
        if "/console/login" not in driver.current_url:
            return
        if driver.find_elements(By.ID, "error"):
            break
        time.sleep(0.05)
    raise SystemExit("login of %s failed: %s" % (name, driver.page_source))


def logout():
    driver.find_element(By.CSS_SELECTOR, "nav.portal button").click()
    wait_for("login-submit")


def add_staff(name, role):
    driver.get(base + "/console/staff")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "role-" + role).click()
    driver.find_element(By.ID, "staff-add-submit").click()
    wait_for("notice")
    secret = driver.find_elements(By.ID, "totp-secret")
    return secret[0].text.split("：")[-1].split(": ")[-1].strip() if secret else None


def row(label, timeout=20):
    """The value of the row `label` of the page that a click is loading."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for dt in driver.find_elements(By.TAG_NAME, "dt"):
            try:
                if dt.text.strip() == label:
                    return dt.find_element(By.XPATH, "following-sibling::dd[1]").text.strip()
            except Exception:
                pass
        time.sleep(0.05)
    raise SystemExit("no %s on %s" % (label, driver.page_source))


def press(element_id, timeout=60):
    """Clicks the button and waits until its page is replaced by the answer."""
    button = driver.find_element(By.ID, element_id)
    button.click()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            button.is_enabled()
        except Exception:
            return
        time.sleep(0.05)
    raise SystemExit("no answer to #%s: %s" % (element_id, driver.page_source))


def wait_for(element_id, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = driver.find_elements(By.ID, element_id)
        if found:
            return found[0]
        time.sleep(0.05)
    raise SystemExit("no #%s on %s" % (element_id, driver.page_source))


try:
    login(admin, totp(admin_secret))
    driver.save_screenshot(os.path.join(shots, "dashboard.png"))
    add_staff("op1", "operator")
    approver_secret = add_staff("ap1", "approver")
    driver.save_screenshot(os.path.join(shots, "staff.png"))
    if not approver_secret:
        raise SystemExit("no TOTP secret shown for the approver: " + driver.page_source)
    add_staff("au1", "auditor")
    logout()

    login("op1")
    driver.get(base + "/console/issue")
    driver.find_element(By.ID, "content").send_keys(content)
    press("issue-submit")
    wait_for("confirm-submit")
    if "data:image/png;base64," not in driver.page_source:
        raise SystemExit("no page pictures in the preview: " + driver.page_source[:2000])
    driver.save_screenshot(os.path.join(shots, "preview.png"))
    press("confirm-submit")
    wait_for("notice")
    issued = row("编号")
    driver.get(base + "/console/certificates/" + issued)
    driver.save_screenshot(os.path.join(shots, "certificate.png"))
    driver.find_element(By.ID, "revise-content").send_keys(revised)
    press("revise-submit")
    wait_for("confirm-submit")
    press("confirm-submit")
    wait_for("notice")
    new_number = row("编号")
    driver.get(base + "/console/certificates/" + new_number)
    driver.execute_script("document.getElementById('as_of').value = '2040-01-01'")
    driver.find_element(By.ID, "propose-submit").click()
    wait_for("notice")
    logout()

    # The approver's code: the step after the admin's login may be the same 30 s window, but
    # this is another account, so the code is fresh for it.
    login("ap1", totp(approver_secret))
    driver.get(base + "/console/disposals")
    driver.find_element(By.ID, "approve-submit").click()
    wait_for("notice")
    driver.save_screenshot(os.path.join(shots, "disposals.png"))
    logout()

    login("au1")
    driver.get(base + "/console/audit")
    result = wait_for("audit-result").text
    print(json.dumps({"issued": issued, "revised": new_number, "audit": result}, ensure_ascii=False))
finally:
    driver.quit()
