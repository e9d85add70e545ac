/** The languages the interface speaks: its own module so that the dictionaries and the error words share it. */
export type Lang = 'fr' | 'en';
