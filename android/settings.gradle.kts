// The Android side of Fieldsales: a Kotlin library over the uniffi bindings of the Rust core.
// The sample app will be a second module here, depending on :fieldsales.

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fieldsales-android"
include(":fieldsales")
