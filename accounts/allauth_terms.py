"""allauth's own strings that name signing in or out, gathered into the project's catalogs.

Partner Center's Japanese says サインイン and サインアウト, and the portal says 登录 and 注销 in
Chinese; allauth's catalogs say ログイン, ログアウト, 登出 and 退出. The project's catalogs
(LOCALE_PATHS) come before any app's, so listing these strings here, where makemessages
finds them, makes the portal's words win on allauth's pages and messages too.
"""
# ruff: noqa: E501 - allauth's strings exactly as allauth writes them (pgettext_lazy: makemessages
# knows no pgettext_noop)

from django.utils.translation import gettext_noop, pgettext_lazy

ALLAUTH_SIGN_IN_TERMS = [
    gettext_noop("Invalid login."),
    gettext_noop("Too many failed login attempts. Try again later."),
    gettext_noop("Send me a sign-in code"),
    gettext_noop("Remember Me"),
    pgettext_lazy("field label", "Login"),
    gettext_noop(
        "Enabling passwordless operation allows you to sign in using just this key, but imposes additional requirements such as biometrics or PIN protection."
    ),
    gettext_noop(
        "An account already exists with this email address. Please sign in to that account first, then connect your %s account."
    ),
    gettext_noop("last login"),
    gettext_noop("Login"),
    gettext_noop("Sign In"),
    gettext_noop("Enter Sign-In Code"),
    gettext_noop("Your sign-in code is listed below. Please enter it in your open browser window."),
    gettext_noop("Sign-In Code"),
    gettext_noop("Sign in with a passkey"),
    gettext_noop("Sign Out"),
    gettext_noop("Are you sure you want to sign out?"),
    gettext_noop("Successfully signed in as %(name)s."),
    gettext_noop("You have signed out."),
    gettext_noop("A sign-in code has been sent to %(recipient)s."),
    gettext_noop("You will receive a special code for a password-free sign-in."),
    gettext_noop("Other sign-in options"),
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
    gettext_noop("You are already logged in as %(user_display)s."),
    gettext_noop("Stay Signed In"),
    gettext_noop(
        "If you choose to trust this browser, you will not be asked for a verification code the next time you sign in."
    ),
    gettext_noop("Third-Party Login Failure"),
    gettext_noop("An error occurred while attempting to login via your third-party account."),
    gettext_noop(
        "You can sign in to your account using any of the following third-party accounts:"
    ),
    gettext_noop("Sign In Via %(provider)s"),
    gettext_noop("You are about to sign in using a third-party account from %(provider)s."),
    gettext_noop("Login Cancelled"),
    gettext_noop(
        'You decided to cancel logging in to our site using one of your existing accounts. If this was a mistake, please proceed to <a href="%(login_url)s">sign in</a>.'
    ),
    gettext_noop(
        "You are about to use your %(provider_name)s account to login to\n%(site_name)s. As a final step, please complete the following form:"
    ),
    gettext_noop("Signed out of all other sessions."),
    gettext_noop("Sign Out Other Sessions"),
]
